using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace QomFs.Qmp;

/// <summary>A string as a JSON string literal, escaped as little as QEMU escapes its own (UTF-8 left as it is).</summary>
static class JsonQuote
{
    /// <summary>
    /// Escaping as QEMU's: only what JSON requires; for the requests, replies and greetings this library writes. As
    /// deep as QEMU's parser takes (1024; the writer's default is 1000), so that a proxy client's request QEMU would
    /// take can be written again.
    /// </summary>
    public static readonly JsonWriterOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, MaxDepth = 1024 };

    public static string Of(string s)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, Relaxed)) w.WriteStringValue(s);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
