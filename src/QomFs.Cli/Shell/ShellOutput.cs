using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using QomFs.Qmp;

namespace QomFs.Cli.Shell;

/// <summary>
/// How the shell shows JSON: compact, or (-p) indented by 4 with keys sorted. Writes straight to fds 1 and 2,
/// unbuffered, so its output interleaves correctly with readline's.
/// </summary>
sealed class ShellOutput(bool pretty)
{
    static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    public bool Pretty { get; } = pretty;

    public void Out(string text) => WriteAll(1, text);
    public void Err(string text) => WriteAll(2, text);

    /// <summary>Writes all of the text to the descriptor, or throws (a reader that went away included).</summary>
    public static void WriteAll(int fd, string text)
    {
        if (LibC.WriteAll(fd, Encoding.UTF8.GetBytes(text)) is var errno && errno != 0) throw LibC.Failed("write", errno);
    }

    /// <summary>Formats one JSON value the way the shell shows it.</summary>
    public string Format(JsonElement value) => Format(value, Pretty);

    public static string Format(JsonElement value, bool pretty)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = Encoder, Indented = pretty, IndentSize = 4 }))
            Write(w, value, sorted: pretty);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    static void Write(Utf8JsonWriter w, JsonElement e, bool sorted)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                w.WriteStartObject();
                var members = e.EnumerateObject().ToList();
                if (sorted) members.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
                foreach (var m in members)
                {
                    w.WritePropertyName(m.Name);
                    Write(w, m.Value, sorted);
                }
                w.WriteEndObject();
                break;
            case JsonValueKind.Array:
                w.WriteStartArray();
                foreach (var item in e.EnumerateArray()) Write(w, item, sorted);
                w.WriteEndArray();
                break;
            default:
                e.WriteTo(w);
                break;
        }
    }

    /// <summary>The command as sent (without the client's numeric id).</summary>
    public static JsonElement Command(ShellRequest r) => Build(w =>
    {
        w.WriteString("execute", r.Execute);
        if (r.Arguments is not null)
        {
            w.WritePropertyName("arguments");
            r.Arguments.WriteTo(w);
        }
    });

    /// <summary>A success reply as QEMU sent it, with the user's own id put back.</summary>
    public static JsonElement Reply(QmpResult result, JsonNode? userId) => Build(w =>
    {
        w.WritePropertyName("return");
        w.WriteRawValue(result.Json.Span, skipInputValidation: true);
        WriteId(w, userId);
    });

    public static JsonElement Error(string errorClass, string description, JsonNode? userId) => Build(w =>
    {
        w.WriteStartObject("error");
        w.WriteString("class", errorClass);
        w.WriteString("desc", description);
        w.WriteEndObject();
        WriteId(w, userId);
    });

    static void WriteId(Utf8JsonWriter w, JsonNode? userId)
    {
        if (userId is null) return;
        w.WritePropertyName("id");
        userId.WriteTo(w);
    }

    static JsonElement Build(Action<Utf8JsonWriter> members)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = Encoder }))
        {
            w.WriteStartObject();
            members(w);
            w.WriteEndObject();
        }
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    /// <summary>
    /// An event: its JSON (which carries QEMU's timestamp). At a terminal it is prefixed with that timestamp in
    /// local time, for people; piped output stays pure JSON lines.
    /// </summary>
    public string Event(QmpEvent e, bool forPeople)
    {
        var json = Format(e.ToElement());
        if (!forPeople) return json;
        var stamp = e.Timestamp.ToLocalTime().ToString("HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
        return $"[{stamp}] {json}";
    }
}
