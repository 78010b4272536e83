using System.Text.Json;

namespace QomFs.Qmp.Proxy;

/// <summary>
/// One request from a proxy client, checked as QEMU checks a request, with QEMU 7.2's own words for what is wrong:
/// either a command to run (<see cref="Command"/>, <see cref="Arguments"/>) or <see cref="Error"/>, the desc of the
/// GenericError that answers it. <see cref="Id"/> is the client's id as it sent it, or null.
/// </summary>
sealed class ProxyRequest
{
    public string? Id { get; private init; }
    public string? Command { get; private init; }
    /// <summary>The arguments object, or an undefined element when there were none.</summary>
    public JsonElement Arguments { get; private init; }
    public string? Error { get; private init; }
    /// <summary>The error's class when it is not GenericError.</summary>
    public string ErrorClass { get; private init; } = "GenericError";

    public static ProxyRequest Parse(ReadOnlySpan<byte> line)
    {
        if (QemuJsonExtensions.ToStandard(line) is { } standard) line = standard;
        JsonElement root;
        try
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 1024 });
            root = JsonElement.ParseValue(ref reader);
            if (reader.Read()) return Refused(ParseError(line));
        }
        catch (JsonException) { return Refused(ParseError(line)); }

        if (root.ValueKind != JsonValueKind.Object) return Refused("QMP input must be a JSON object");
        string? id = null, command = null;
        var arguments = default(JsonElement);
        foreach (var member in root.EnumerateObject())
            if (member.NameEquals("id")) id = member.Value.GetRawText();
        foreach (var member in root.EnumerateObject())
        {
            if (member.NameEquals("execute"))
            {
                if (member.Value.ValueKind != JsonValueKind.String) return Refused("QMP input member 'execute' must be a string", id);
                command = member.Value.GetString();
            }
            else if (member.NameEquals("arguments"))
            {
                if (member.Value.ValueKind != JsonValueKind.Object) return Refused("QMP input member 'arguments' must be an object", id);
                arguments = member.Value;
            }
            // Out-of-band execution is not negotiable through the proxy (see QmpProxy): QEMU's answer when it was not negotiated.
            else if (!member.NameEquals("id")) return Refused($"QMP input member '{member.Name}' is unexpected", id);
        }
        if (command is null) return Refused("QMP input lacks member 'execute'", id);
        return new ProxyRequest { Id = id, Command = command, Arguments = arguments };
    }

    public static ProxyRequest Refused(string desc, string? id = null, string errorClass = "GenericError") =>
        new() { Error = desc, Id = id, ErrorClass = errorClass };

    /// <summary>A line over the proxy's limit: QEMU's words for a request over its own.</summary>
    public static ProxyRequest TooLong() => Refused("JSON token size limit exceeded");

    // QEMU's lexer names a bare word it cannot read; anything else it fails on is, most often, a missing value.
    static string ParseError(ReadOnlySpan<byte> line)
    {
        var text = line.Trim(" \t\r\n"u8);
        var word = 0;
        while (word < text.Length && (char.IsAsciiLetterOrDigit((char)text[word]) || text[word] == '_')) word++;
        return word > 0 && char.IsAsciiLetter((char)text[0])
            ? $"JSON parse error, invalid keyword '{System.Text.Encoding.ASCII.GetString(text[..word])}'"
            : "JSON parse error, expecting value";
    }
}
