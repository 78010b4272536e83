using System.Buffers;
using System.Text.Json;

namespace QomFs.Qmp;

/// <summary>
/// The request both protocols send: compact JSON, <c>execute</c>, the arguments and the id; or the arguments first,
/// when the opening of the requests is sent ahead of them (<see cref="SendAheadEncoder"/>).
/// </summary>
static class QmpRequest
{
    /// <param name="prefix">bytes before the object (the guest agent's 0xFF delimiter), or empty.</param>
    /// <param name="suffix">bytes after it (a newline, the next request's opening), or empty.</param>
    public static byte[] Encode(string command, Action<Utf8JsonWriter>? writeArguments, long? id,
        ReadOnlySpan<byte> prefix = default, ReadOnlySpan<byte> suffix = default, bool argumentsFirst = false)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        buffer.Write(prefix);
        using (var w = new Utf8JsonWriter(buffer, JsonQuote.Relaxed))
        {
            w.WriteStartObject();
            if (!argumentsFirst) w.WriteString("execute"u8, command);
            if (writeArguments is not null)
            {
                w.WriteStartObject("arguments"u8);
                writeArguments(w);
                w.WriteEndObject();
            }
            if (argumentsFirst) w.WriteString("execute"u8, command);
            if (id is long n) w.WriteNumber("id"u8, n);
            w.WriteEndObject();
        }
        buffer.Write(suffix);
        return buffer.WrittenSpan.ToArray();
    }
}
