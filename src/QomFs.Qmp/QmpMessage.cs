using System.Text.Json;

namespace QomFs.Qmp;

enum QmpMessageKind { Greeting, Return, Error, Event }

/// <summary>
/// One server message, scanned with a forward-only reader: the hot path (a reply) copies out only the bytes of its
/// <c>return</c> value and never builds a DOM.
/// </summary>
readonly struct QmpMessage
{
    public QmpMessageKind Kind { get; init; }
    public bool HasId { get; init; }
    /// <summary>The numeric id, when the id is a number that fits a long; any other id cannot be one of ours.</summary>
    public long? Id { get; init; }
    public Range Value { get; init; }       // return value, event data or greeting body
    public string? ErrorClass { get; init; }
    public string? ErrorDesc { get; init; }
    public string? EventName { get; init; }
    public DateTimeOffset Timestamp { get; init; }

    /// <exception cref="QmpProtocolException">not a JSON object, or not a QMP message.</exception>
    public static QmpMessage Parse(ReadOnlySpan<byte> json)
    {
        try { return ParseCore(json); }
        catch (JsonException e) { throw new QmpProtocolException($"invalid JSON from the server: {e.Message}", e); }
        catch (InvalidOperationException e) { throw new QmpProtocolException($"malformed message from the server: {e.Message}", e); }
    }

    /// <summary>
    /// How deep a message from the server may nest. Every parse of a message or of a part of it (an event's data, a
    /// result) allows the same, so that what the client accepted never fails to parse later.
    /// </summary>
    internal const int MaxDepth = 512;

    /// <summary>A message, or a part of one, as a JSON element of its own, under the same bound.</summary>
    internal static JsonElement Element(ReadOnlyMemory<byte> json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = MaxDepth });
        return doc.RootElement.Clone();
    }

    static QmpMessage ParseCore(ReadOnlySpan<byte> json)
    {
        var r = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
        if (!r.Read() || r.TokenType != JsonTokenType.StartObject)
            throw new QmpProtocolException("the server sent something that is not a JSON object");

        bool hasId = false, hasReturn = false, hasError = false, hasGreeting = false;
        long? id = null;
        Range value = default, data = default;
        string? errorClass = null, errorDesc = null, eventName = null;
        DateTimeOffset timestamp = default;

        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (r.ValueTextEquals("return"u8)) { value = SkipValue(ref r); hasReturn = true; }
            else if (r.ValueTextEquals("id"u8))
            {
                hasId = true;
                r.Read();
                id = r.TokenType == JsonTokenType.Number && r.TryGetInt64(out var n) ? n : null;
                r.Skip();
            }
            else if (r.ValueTextEquals("error"u8)) { hasError = true; (errorClass, errorDesc) = ReadError(ref r); }
            else if (r.ValueTextEquals("event"u8))
            {
                r.Read();
                eventName = r.TokenType == JsonTokenType.String ? r.GetString() : throw NotA("event", "string");
            }
            else if (r.ValueTextEquals("data"u8)) data = SkipValue(ref r);
            else if (r.ValueTextEquals("timestamp"u8)) timestamp = ReadTimestamp(ref r);
            else if (r.ValueTextEquals("QMP"u8)) { value = SkipValue(ref r); hasGreeting = true; }
            else { r.Read(); r.Skip(); }
        }
        if (r.TokenType != JsonTokenType.EndObject || r.Read())
            throw new QmpProtocolException("trailing data after a JSON object");

        if (hasError)
        {
            if (errorClass is null || errorDesc is null)
                throw new QmpProtocolException("an error reply without a class and a desc");
            return new QmpMessage { Kind = QmpMessageKind.Error, HasId = hasId, Id = id, ErrorClass = errorClass, ErrorDesc = errorDesc };
        }
        if (hasReturn) return new QmpMessage { Kind = QmpMessageKind.Return, HasId = hasId, Id = id, Value = value };
        if (eventName is not null) return new QmpMessage { Kind = QmpMessageKind.Event, EventName = eventName, Value = data, Timestamp = timestamp };
        if (hasGreeting) return new QmpMessage { Kind = QmpMessageKind.Greeting, Value = value };
        throw new QmpProtocolException("a message that is neither a reply, an event nor a greeting");
    }

    static Range SkipValue(ref Utf8JsonReader r)
    {
        r.Read();
        var start = (int)r.TokenStartIndex;
        r.Skip();
        return new Range(start, (int)r.BytesConsumed);
    }

    static (string?, string?) ReadError(ref Utf8JsonReader r)
    {
        r.Read();
        if (r.TokenType != JsonTokenType.StartObject) throw NotA("error", "object");
        string? cls = null, desc = null;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var isClass = r.ValueTextEquals("class"u8);
            var isDesc = r.ValueTextEquals("desc"u8);
            r.Read();
            if ((isClass || isDesc) && r.TokenType == JsonTokenType.String)
            {
                if (isClass) cls = r.GetString(); else desc = r.GetString();
            }
            else r.Skip();
        }
        return (cls, desc);
    }

    static DateTimeOffset ReadTimestamp(ref Utf8JsonReader r)
    {
        r.Read();
        if (r.TokenType != JsonTokenType.StartObject) { r.Skip(); return default; }
        long seconds = 0, micros = 0;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var isSeconds = r.ValueTextEquals("seconds"u8);
            var isMicros = r.ValueTextEquals("microseconds"u8);
            r.Read();
            if (r.TokenType == JsonTokenType.Number && r.TryGetInt64(out var n))
            {
                if (isSeconds) seconds = n; else if (isMicros) micros = n;
            }
            else r.Skip();
        }
        // Out-of-range values from a broken peer become the epoch rather than an exception.
        return seconds is >= 0 and < 253402300799 && micros is >= 0 and < 1_000_000
            ? DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(micros * 10)
            : default;
    }

    static QmpProtocolException NotA(string field, string type) => new($"the server's '{field}' is not a {type}");
}
