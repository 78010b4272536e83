using System.Text.Json;

namespace QomFs.Qmp;

/// <summary>What the server said about itself when we connected.</summary>
public sealed record QmpGreeting(int Major, int Minor, int Micro, string Package, IReadOnlyList<string> Capabilities)
{
    public Version Version => new(Major, Minor, Micro);

    /// <summary>The greeting as QEMU writes it (one line, no line end), offering <paramref name="capabilities"/>, by default its own.</summary>
    public string ToJson(IEnumerable<string>? capabilities = null) =>
        $"{{\"QMP\": {{\"version\": {{\"qemu\": {{\"micro\": {Micro}, \"minor\": {Minor}, \"major\": {Major}}}, " +
        $"\"package\": {JsonQuote.Of(Package)}}}, \"capabilities\": [{string.Join(", ", (capabilities ?? Capabilities).Select(JsonQuote.Of))}]}}}}";

    internal static QmpGreeting Parse(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            var version = root.GetProperty("version");
            var qemu = version.GetProperty("qemu");
            var caps = root.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString() ?? "").ToArray();
            return new QmpGreeting(qemu.GetProperty("major").GetInt32(), qemu.GetProperty("minor").GetInt32(),
                qemu.GetProperty("micro").GetInt32(),
                version.TryGetProperty("package", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : "",
                caps);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new QmpProtocolException($"the server's greeting is not a QMP greeting: {e.Message}", e);
        }
    }
}
