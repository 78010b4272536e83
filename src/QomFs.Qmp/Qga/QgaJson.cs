using System.Text.Json;

namespace QomFs.Qmp.Qga;

/// <summary>
/// Defensive readers for the agent's replies: the guest controls them, so a wrong type, bad base64 or a value out of
/// range is a <see cref="QmpProtocolException"/> with a clear message, never a crash.
/// </summary>
public static class QgaJson
{
    /// <summary>The reply as a DOM. The client has already checked that it is valid UTF-8 JSON.</summary>
    public static JsonElement Element(QmpResult result, string command)
    {
        try { return result.ToElement(); }
        catch (JsonException e) { throw Malformed(command, e.Message); }
    }

    public static string? String(JsonElement obj, string name, string command)
    {
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String) throw Malformed(command, $"'{name}' is not a string");
        try { return v.GetString(); }
        catch (InvalidOperationException) { throw Malformed(command, $"'{name}' is not valid UTF-8"); }
    }

    public static long? Long(JsonElement obj, string name, string command)
    {
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var n)) throw Malformed(command, $"'{name}' is not an integer");
        return n;
    }

    public static bool? Bool(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? v.GetBoolean() : null;

    /// <summary>Decodes a base64 member (<c>buf-b64</c>, <c>out-data</c>); absent is empty.</summary>
    /// <param name="maxBytes">the most bytes the member may hold once decoded.</param>
    public static byte[] Base64(JsonElement obj, string name, string command, int maxBytes = int.MaxValue)
    {
        var text = String(obj, name, command);
        if (string.IsNullOrEmpty(text)) return [];
        var bytes = new byte[(text.Length + 3) / 4 * 3];
        if (!Convert.TryFromBase64String(text, bytes, out var n))
            throw Malformed(command, $"'{name}' is not valid base64");
        if (n > maxBytes) throw Malformed(command, $"'{name}' holds {n} bytes, more than the {maxBytes} asked for");
        return n == bytes.Length ? bytes : bytes[..n];
    }

    public static QmpProtocolException Malformed(string command, string why) =>
        new($"the guest agent's reply to {command} is malformed: {why}");
}
