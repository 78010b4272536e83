using System.Text;

namespace QomFs.Qmp.Proxy;

/// <summary>What the proxy writes to a client, laid out as QEMU lays out its own messages, each ending in CRLF.</summary>
static class ProxyReplies
{
    /// <summary>
    /// QEMU's greeting, with the capabilities the proxy offers: QEMU's but <c>oob</c>, since the proxy negotiates no
    /// out-of-band execution with a client (see QmpProxy).
    /// </summary>
    public static byte[] Greeting(QmpGreeting? qemu)
    {
        var q = qemu ?? new QmpGreeting(0, 0, 0, "", []);
        return Line(q.ToJson(q.Capabilities.Where(c => c != "oob")));
    }

    public static byte[] Return(ReadOnlySpan<byte> value, string? id)
    {
        var json = Encoding.UTF8.GetString(value);
        return Line(id is null ? $"{{\"return\": {json}}}" : $"{{\"return\": {json}, \"id\": {id}}}");
    }

    public static byte[] Error(string errorClass, string desc, string? id)
    {
        var error = $"\"error\": {{\"class\": {JsonQuote.Of(errorClass)}, \"desc\": {JsonQuote.Of(desc)}}}";
        return Line(id is null ? $"{{{error}}}" : $"{{\"id\": {id}, {error}}}");
    }

    static byte[] Line(string json) => Encoding.UTF8.GetBytes(json + "\r\n");
}
