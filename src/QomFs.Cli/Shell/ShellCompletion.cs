using System.Text.Json;
using QomFs.Qmp;

namespace QomFs.Cli.Shell;

/// <summary>
/// Tab completion: command names from <c>query-commands</c> (or <c>guest-info</c> for a guest agent), argument names,
/// dotted sub-keys and enum values from <c>query-qmp-schema</c>, transaction action types and their data members.
/// With -H: HMP command names from <c>help</c> and <c>info</c> topics. Loaded in the background at start.
/// </summary>
sealed class ShellCompletion
{
    sealed record Catalog(string[] Commands, QmpSchema Schema, string[] InfoTopics);

    readonly Task<Catalog> _catalog;
    readonly Func<bool> _inTransaction;
    readonly bool _hmp;

    public ShellCompletion(QmpClient client, bool hmp, Func<bool> inTransaction)
    {
        _inTransaction = inTransaction;
        _hmp = hmp;
        _catalog = hmp ? LoadHmpAsync(client) : LoadQmpAsync(client);
    }

    static async Task<Catalog> LoadQmpAsync(QmpClient client)
    {
        var commands = await TryNames(client, "query-commands", r => r.EnumerateArray());
        if (commands.Length == 0)
            commands = await TryNames(client, "guest-info", r => r.GetProperty("supported_commands").EnumerateArray()
                .Where(c => !c.TryGetProperty("enabled", out var e) || e.GetBoolean()));
        var schema = QmpSchema.Empty;
        try { schema = new QmpSchema((await client.ExecuteAsync("query-qmp-schema")).ToElement()); }
        catch (Exception e) when (e is QmpException or InvalidOperationException or KeyNotFoundException) { }
        return new Catalog([.. commands.Append("transaction(").Distinct().Order(StringComparer.Ordinal)], schema, []);
    }

    static async Task<string[]> TryNames(QmpClient client, string command, Func<JsonElement, IEnumerable<JsonElement>> items)
    {
        try
        {
            var reply = (await client.ExecuteAsync(command)).ToElement();
            return [.. items(reply).Select(c => c.GetProperty("name").GetString()!)];
        }
        catch (Exception e) when (e is QmpException or InvalidOperationException or KeyNotFoundException) { return []; }
    }

    static async Task<Catalog> LoadHmpAsync(QmpClient client)
    {
        async Task<string[]> Lines(string command)
        {
            try
            {
                var text = (await client.ExecuteAsync("human-monitor-command", w => w.WriteString("command-line", command))).ToElement().GetString() ?? "";
                return text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            }
            catch (QmpException) { return []; }
        }
        // "name|alias ARGS -- text": the long name. "info topic -- text": the topic.
        var commands = (await Lines("help")).Where(l => l[0] is not '[' and not '\t')
            .Select(l => l.Split(' ')[0].Split('|').OrderByDescending(n => n.Length).First());
        var topics = (await Lines("info")).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(p => p.Length > 1 && p[0] == "info").Select(p => p[1]);
        return new Catalog([.. commands.Distinct().Order(StringComparer.Ordinal)], QmpSchema.Empty, [.. topics.Distinct().Order(StringComparer.Ordinal)]);
    }

    /// <summary>The candidates for <paramref name="word"/>, given the line before it.</summary>
    public (IReadOnlyList<string> Candidates, bool AppendSpace) Complete(string before, string word)
    {
        if (!_catalog.Wait(TimeSpan.FromSeconds(2))) return ([], true);
        var c = _catalog.Result;
        var tokens = before.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).ToList();

        if (_hmp) return Hmp(c, tokens, word);

        // A value after "key=": enum values and booleans.
        if (before.EndsWith('=') && tokens.Count > 0)
        {
            var key = tokens[^1][..^1];
            var (_, argsType) = Target(c, tokens[..^1]);
            var values = c.Schema.Values(c.Schema.MemberType(argsType, key.Split('.')));
            return (Matching(values, word), true);
        }

        var inTransaction = _inTransaction() || tokens.FirstOrDefault() == "transaction(";
        var head = tokens.Count > 0 && tokens[0] == "transaction(" ? tokens[1..] : tokens;
        if (head.Count == 0)
            return inTransaction ? (Matching([.. ActionTypes(c.Schema), ")"], word), true) : (Matching(c.Commands, word), true);

        // An argument name, possibly dotted: complete the last part under the object the earlier parts name.
        var (command, type) = Target(c, tokens);
        if (command is null) return ([], true);
        var dot = word.LastIndexOf('.');
        var prefix = dot < 0 ? "" : word[..(dot + 1)];
        var parentType = dot < 0 ? type : c.Schema.MemberType(type, word[..dot].Split('.'));
        var used = head.Skip(1).Select(t => t.Split('=')[0]).ToHashSet(StringComparer.Ordinal);
        var candidates = new List<string>();
        foreach (var (name, memberType) in c.Schema.Members(parentType))
        {
            if (used.Contains(prefix + name)) continue;
            candidates.Add(prefix + name + "=");
            if (c.Schema.IsObject(memberType)) candidates.Add(prefix + name + ".");
        }
        return (Matching(candidates, word), false);
    }

    /// <summary>The command (or transaction action) a line is about, and the type of its arguments.</summary>
    (string? Command, string? ArgsType) Target(Catalog c, List<string> tokens)
    {
        if (tokens.Count == 0) return (null, null);
        if (tokens[0] == "transaction(" || _inTransaction())
        {
            var action = tokens[0] == "transaction(" ? tokens.ElementAtOrDefault(1) : tokens[0];
            return action is null ? (null, null) : (action, ActionData(c.Schema, action));
        }
        return (tokens[0], c.Schema.CommandArguments(tokens[0]));
    }

    // transaction's "actions" is an array of a union tagged by "type"; each variant wraps the action's "data".
    static string? ActionUnion(QmpSchema s) =>
        s.ElementOf(s.MemberType(s.CommandArguments("transaction"), ["actions"]));

    static IEnumerable<string> ActionTypes(QmpSchema s) =>
        s.Values(s.MemberType(ActionUnion(s), ["type"]));

    static string? ActionData(QmpSchema s, string action) =>
        s.MemberType(s.VariantFor(ActionUnion(s), action), ["data"]);

    static (IReadOnlyList<string>, bool) Hmp(Catalog c, List<string> tokens, string word)
    {
        if (tokens.Count == 0) return (Matching(c.Commands, word), true);
        if (tokens.Count == 1 && tokens[0] is "info" or "help") return (Matching(tokens[0] == "info" ? c.InfoTopics : c.Commands, word), true);
        return ([], true);
    }

    static List<string> Matching(IEnumerable<string> names, string word) =>
        [.. names.Where(n => n.StartsWith(word, StringComparison.Ordinal))];
}
