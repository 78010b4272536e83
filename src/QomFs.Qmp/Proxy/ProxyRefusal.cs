using System.Net.Sockets;

namespace QomFs.Qmp.Proxy;

/// <summary>
/// Turns away a client that finds every place taken, in QMP: it is greeted as any client, each request it sends
/// within a few seconds is answered with a GenericError saying why, and the connection is closed. A bare close would leave a client to
/// report only an unexpected end of file (qemu.qmp's "EOFError", ours "closed the connection before its greeting");
/// an error in the greeting's place is not understood either, while an error to a request is shown as it is.
/// </summary>
static class ProxyRefusal
{
    // How long a refused client is answered, and how much of what it sends is read.
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);
    const int MaxRequestBytes = 64 * 1024;

    public static async Task RefuseAsync(Socket client, byte[] greeting, int maxClients)
    {
        using var _ = client;
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            await SendAsync(client, greeting, timeout.Token);
            // Every request it sends within its time is answered so: a client that sends a command behind its
            // qmp_capabilities without waiting (ours) reads the reason rather than an end of file.
            var error = $"too many clients: the QomFs QMP proxy serves at most {maxClients} at once";
            var buffer = new byte[MaxRequestBytes];
            var splitter = new RequestSplitter();
            int start = 0, end = 0;
            while (end < buffer.Length) // no more than this is read from it
            {
                var n = await client.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None, timeout.Token);
                if (n == 0) return;
                end += n;
                for (int scanned = end - n, found; (found = splitter.FindEnd(buffer.AsSpan(scanned, end - scanned))) >= 0; start = scanned)
                {
                    scanned += found;
                    var request = buffer.AsSpan(start, scanned - start);
                    if (!request.Trim(" \t\r\n"u8).IsEmpty)
                        await SendAsync(client, ProxyReplies.Error("GenericError", error, ProxyRequest.Parse(request).Id), timeout.Token);
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException) { }
    }

    static async Task SendAsync(Socket s, byte[] message, CancellationToken cancel)
    {
        for (var sent = 0; sent < message.Length;)
            sent += await s.SendAsync(message.AsMemory(sent), SocketFlags.None, cancel);
    }
}
