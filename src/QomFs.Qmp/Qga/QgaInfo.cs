using System.Text.Json;

namespace QomFs.Qmp.Qga;

/// <summary>One command in <c>guest-info</c>'s <c>supported_commands</c>.</summary>
public sealed record QgaCommandInfo(string Name, bool Enabled, bool SuccessResponse);

/// <summary>The reply to <c>guest-info</c>: the agent's version and which commands it has and allows.</summary>
public sealed record QgaInfo(string Version, IReadOnlyList<QgaCommandInfo> Commands)
{
    public QgaCommandInfo? Find(string name) => Commands.FirstOrDefault(c => c.Name == name);

    /// <exception cref="QmpProtocolException">the reply is not a guest-info reply.</exception>
    public static QgaInfo Parse(QmpResult result)
    {
        var root = QgaJson.Element(result, "guest-info");
        if (root.ValueKind != JsonValueKind.Object) throw QgaJson.Malformed("guest-info", "not an object");
        var version = QgaJson.String(root, "version", "guest-info") ?? "";
        var commands = new List<QgaCommandInfo>();
        if (root.TryGetProperty("supported_commands", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var c in list.EnumerateArray())
            {
                if (c.ValueKind != JsonValueKind.Object) continue;
                var name = QgaJson.String(c, "name", "guest-info");
                if (name is null) continue;
                commands.Add(new QgaCommandInfo(name, QgaJson.Bool(c, "enabled") ?? true, QgaJson.Bool(c, "success-response") ?? true));
            }
        }
        return new QgaInfo(version, commands);
    }
}
