using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace QomFs.Cli.Shell;

/// <summary>A command ready to send: what goes on the wire, plus the id the user wrote (never sent; see the README).</summary>
sealed record ShellRequest(string Execute, JsonObject? Arguments, JsonNode? UserId);

/// <summary>The line cannot be understood; nothing was sent.</summary>
sealed class ShellSyntaxException(string message) : Exception(message);

/// <summary>
/// The shell's input language: <c>command key=value …</c>, a JSON object sent as it is, and <c>transaction(</c> …
/// <c>)</c> blocks (multi-line or one line). One instance per session: it remembers an open transaction.
/// </summary>
sealed partial class ShellSyntax
{
    readonly List<JsonObject> _actions = [];

    public bool InTransaction { get; private set; }

    /// <summary>Forgets an open transaction (Ctrl-C at the TRANS&gt; prompt, end of input).</summary>
    public void CancelTransaction()
    {
        InTransaction = false;
        _actions.Clear();
    }

    /// <summary>The command a line asks for, or null when there is nothing to send yet (blank, comment, an action of an open transaction).</summary>
    /// <exception cref="ShellSyntaxException">the line is malformed; an open transaction stays open.</exception>
    public ShellRequest? Parse(string line)
    {
        var trimmed = line.Trim();
        if (trimmed.Length == 0 || trimmed[0] == '#') return null;
        if (trimmed[0] == '{') return InTransaction ? AddJsonAction(trimmed) : ParseJsonCommand(trimmed);

        var tokens = Tokenize(trimmed);
        var opened = false;
        if (tokens[0] == "transaction(")
        {
            if (InTransaction) throw new ShellSyntaxException("a transaction is already open: finish it with ')'");
            InTransaction = opened = true;
            _actions.Clear();
            tokens.RemoveAt(0);
        }
        try
        {
            if (tokens.Count > 0 && tokens[0] == ")")
            {
                if (!InTransaction) throw new ShellSyntaxException("')' without 'transaction('");
                if (tokens.Count > 1) throw new ShellSyntaxException("unexpected input after the ')' that closes the transaction");
                return Commit();
            }
            if (tokens.Count == 0) return null;
            if (!InTransaction) return new ShellRequest(Unquote(tokens[0]), Arguments(tokens, 1, tokens.Count), null);

            // An action: "type key=value …", and a trailing ")" closes the transaction on the same line.
            var closes = tokens.Count > 1 && tokens[^1] == ")";
            var data = Arguments(tokens, 1, closes ? tokens.Count - 1 : tokens.Count) ?? [];
            _actions.Add(new JsonObject { ["type"] = Unquote(tokens[0]), ["data"] = data });
            return closes ? Commit() : null;
        }
        catch (ShellSyntaxException) when (opened)
        {
            CancelTransaction(); // a one-line transaction that failed to parse leaves nothing open
            throw;
        }
    }

    ShellRequest Commit()
    {
        var actions = new JsonArray();
        foreach (var a in _actions) actions.Add((JsonNode)a);
        CancelTransaction();
        return new ShellRequest("transaction", new JsonObject { ["actions"] = actions }, null);
    }

    static ShellRequest ParseJsonCommand(string text)
    {
        var o = ParseJsonObject(text);
        string? execute = null;
        JsonObject? arguments = null;
        JsonNode? id = null;
        foreach (var (name, value) in o)
        {
            switch (name)
            {
                case "execute" when value is JsonValue v && v.GetValueKind() == JsonValueKind.String:
                    execute = v.GetValue<string>();
                    break;
                case "execute": throw new ShellSyntaxException("\"execute\" must be a string");
                case "arguments" when value is JsonObject args: arguments = args; break;
                case "arguments": throw new ShellSyntaxException("\"arguments\" must be an object");
                case "id": id = value?.DeepClone(); break;
                case "exec-oob": throw new ShellSyntaxException("exec-oob is not supported: use \"execute\"");
                default: throw new ShellSyntaxException($"unexpected member \"{name}\": a command has execute, arguments and id");
            }
        }
        if (execute is null) throw new ShellSyntaxException("a JSON command needs \"execute\"");
        if (arguments is not null) o.Remove("arguments"); // detach, so it can be owned by the request
        return new ShellRequest(execute, arguments, id);
    }

    ShellRequest? AddJsonAction(string text)
    {
        var o = ParseJsonObject(text);
        if (o["type"] is not JsonValue t || t.GetValueKind() != JsonValueKind.String)
            throw new ShellSyntaxException("an action in a transaction needs a string \"type\"");
        _actions.Add(o);
        return null;
    }

    // A name twice in one object is an error when the text is parsed, rather than when the object is first used.
    static readonly JsonDocumentOptions NoDuplicateNames = new() { AllowDuplicateProperties = false };

    // The parser's first sentence and where, in the line's own terms: "an object or array is not closed (at
    // character 27)", rather than ".NET's expected depth to be zero … LineNumber: 0 | BytePositionInLine: 26."
    static string Reason(JsonException e)
    {
        var first = e.Message.Split(". ", 2)[0].TrimEnd('.').Replace(" encountered during deserialization", "");
        var reason = first.StartsWith("Expected depth to be zero", StringComparison.Ordinal) ? "an object or array is not closed" : first;
        return e.BytePositionInLine is { } at ? $"{reason} (at character {at + 1})" : reason;
    }

    static JsonObject ParseJsonObject(string text)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: NoDuplicateNames) as JsonObject ?? throw new ShellSyntaxException("not a JSON object");
        }
        catch (JsonException e) { throw new ShellSyntaxException($"invalid JSON: {Reason(e)}"); }
    }

    /// <summary>
    /// Splits at whitespace outside quotes and outside JSON brackets, so <c>a="x y"</c> and <c>b={"c": 1}</c> are
    /// one token each. Quotes stay in the token; <see cref="Value"/> removes them.
    /// </summary>
    internal static List<string> Tokenize(string line)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        char quote = '\0';
        int depth = 0;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0')
            {
                current.Append(c);
                if (c == '\\' && i + 1 < line.Length) current.Append(line[++i]);
                else if (c == quote) quote = '\0';
                continue;
            }
            if (char.IsWhiteSpace(c) && depth == 0)
            {
                if (current.Length > 0) { tokens.Add(current.ToString()); current.Clear(); }
                continue;
            }
            if (c is '"' or '\'') quote = c;
            else if (c is '{' or '[') depth++;
            else if (c is '}' or ']' && depth > 0) depth--;
            current.Append(c);
        }
        if (quote != '\0') throw new ShellSyntaxException($"unterminated {quote} quote");
        if (current.Length > 0) tokens.Add(current.ToString());
        return tokens;
    }

    /// <summary>The arguments object of tokens[from..to), each <c>key=value</c>, dotted keys nested; null for none.</summary>
    static JsonObject? Arguments(List<string> tokens, int from, int to)
    {
        if (from >= to) return null;
        var root = new JsonObject();
        var leaves = new HashSet<string>(StringComparer.Ordinal);
        var parents = new HashSet<string>(StringComparer.Ordinal);
        for (var i = from; i < to; i++)
        {
            var (key, raw) = SplitPair(tokens[i]);
            var path = key.Split('.');
            if (path.Any(p => p.Length == 0)) throw new ShellSyntaxException($"'{key}' is not a valid key");
            var parent = root;
            for (var k = 0; k < path.Length - 1; k++)
            {
                var prefix = string.Join('.', path, 0, k + 1);
                if (leaves.Contains(prefix)) throw BothLeafAndParent(prefix);
                parents.Add(prefix);
                if (parent[path[k]] is not JsonObject child) parent[path[k]] = child = [];
                parent = child;
            }
            if (parents.Contains(key)) throw BothLeafAndParent(key);
            if (!leaves.Add(key)) throw new ShellSyntaxException($"'{key}' is given more than once");
            parent[path[^1]] = Value(raw);
        }
        return root;
    }

    static ShellSyntaxException BothLeafAndParent(string key) =>
        new($"'{key}' is used both as a value and as a parent of dotted keys");

    static (string Key, string Value) SplitPair(string token)
    {
        char quote = '\0';
        for (var i = 0; i < token.Length; i++)
        {
            var c = token[i];
            if (quote != '\0') { if (c == '\\') i++; else if (c == quote) quote = '\0'; }
            else if (c is '"' or '\'') quote = c;
            else if (c == '=') return (Unquote(token[..i]), token[(i + 1)..]);
        }
        throw new ShellSyntaxException($"expected key=value, got '{token}'");
    }

    /// <summary>
    /// Types a value: JSON objects and arrays, then a quoted string (quotes removed), integers, floats,
    /// true/false (any case, as upstream), null; anything else is a string.
    /// </summary>
    internal static JsonNode? Value(string raw)
    {
        if (raw.Length > 0 && raw[0] is '{' or '[')
        {
            try { return JsonNode.Parse(raw, documentOptions: NoDuplicateNames); }
            catch (JsonException e) { throw new ShellSyntaxException($"'{raw}' is not valid JSON: {Reason(e)}"); }
        }
        if (raw.Contains('"') || raw.Contains('\'')) return JsonValue.Create(Unquote(raw));
        if (IntegerPattern().IsMatch(raw))
            return JsonNode.Parse(BigInteger.Parse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture));
        if (FloatPattern().IsMatch(raw))
        {
            if (JsonNumberPattern().IsMatch(raw)) return JsonNode.Parse(raw);
            var d = double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (double.IsFinite(d)) return JsonNode.Parse(d.ToString("R", CultureInfo.InvariantCulture));
        }
        if (raw.Equals("true", StringComparison.OrdinalIgnoreCase)) return JsonValue.Create(true);
        if (raw.Equals("false", StringComparison.OrdinalIgnoreCase)) return JsonValue.Create(false);
        if (raw == "null") return null;
        return JsonValue.Create(raw);
    }

    /// <summary>Removes quotes, keeping what they enclose; a backslash inside quotes takes the next character literally.</summary>
    internal static string Unquote(string text)
    {
        if (!text.Contains('"') && !text.Contains('\'')) return text;
        var sb = new StringBuilder(text.Length);
        char quote = '\0';
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote == '\0' && c is '"' or '\'') { quote = c; continue; }
            if (quote != '\0' && c == quote) { quote = '\0'; continue; }
            if (quote != '\0' && c == '\\' && i + 1 < text.Length) c = text[++i];
            sb.Append(c);
        }
        return sb.ToString();
    }

    [GeneratedRegex(@"^[+-]?[0-9]+$")] private static partial Regex IntegerPattern();
    [GeneratedRegex(@"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")] private static partial Regex FloatPattern();
    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")] private static partial Regex JsonNumberPattern();
}
