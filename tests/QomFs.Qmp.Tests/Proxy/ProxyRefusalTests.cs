using System.Net.Sockets;
using System.Text;
using QomFs.Qmp.Proxy;
using QomFs.Testing;

namespace QomFs.Qmp.Tests.Proxy;

/// <summary>
/// A proxy with every place taken turns clients away in QMP, and no more of them at once than it serves (a scripted
/// QEMU: the limit is the proxy's alone; ProxyLimitsTests shows it on the real ones, behind a mount).
/// </summary>
public class ProxyRefusalTests
{
    const string TooMany = "too many clients: the QomFs QMP proxy serves at most 1 at once";

    static StreamReader Open(string path, out Socket socket)
    {
        socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        socket.ReceiveTimeout = 10_000;
        return new StreamReader(new NetworkStream(socket), Encoding.UTF8);
    }

    [Test]
    public async Task OneClientTooManyReadsWhyToEachRequestAndAFloodIsClosedAtOnce()
    {
        using var qemu = ScriptedServer.Qemu(_ => """{"return": {}}""");
        await using var qmp = await QmpClient.ConnectAsync(QmpAddress.Unix(qemu.SocketPath));
        var path = Path.Combine(TempPaths.NewDirectory("proxy"), "p.qmp");
        using var proxy = QmpProxy.Start(path, qmp, new QmpProxyOptions { MaxClients = 1 });

        await using var served = await QmpClient.ConnectAsync(QmpAddress.Unix(path));
        using var refused = Open(path, out var refusedSocket);
        using var _ = refusedSocket;
        Assert.That(refused.ReadLine(), Does.StartWith("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}"));
        // Two requests in one write, as a client that does not wait for the negotiation sends them.
        refusedSocket.Send("{\"execute\": \"qmp_capabilities\", \"id\": 1}{\"execute\": \"query-status\", \"id\": \"two\"}"u8);
        Assert.That(refused.ReadLine(), Is.EqualTo($$$"""{"id": 1, "error": {"class": "GenericError", "desc": "{{{TooMany}}}"}}"""));
        Assert.That(refused.ReadLine(), Is.EqualTo($$$"""{"id": "two", "error": {"class": "GenericError", "desc": "{{{TooMany}}}"}}"""));

        // While that one is still being told, one more is closed before its greeting: refusals are bounded too.
        using var flood = Open(path, out var floodSocket);
        using var __ = floodSocket;
        Assert.That(flood.ReadLine(), Is.Null);

        // Once that one has gone, our own client is told too, and reports the reason as its negotiation's error.
        refusedSocket.Dispose();
        QmpCommandException? told = null;
        await Wait.UntilAsync(async () =>
        {
            try
            {
                await using var c = await QmpClient.ConnectAsync(QmpAddress.Unix(path), new QmpClientOptions { ReaderThread = false });
                await c.ExecuteAsync("query-status");
            }
            catch (QmpCommandException e) { told = e; }
            catch (QmpConnectionException) { } // closed at once: the last refusal has not ended yet
            return told is not null;
        }, TimeSpan.FromSeconds(10), "a refusal in QMP for our client");
        Assert.That(told!.Description, Is.EqualTo(TooMany));
        Assert.That(proxy.Clients, Is.EqualTo(1));
        Assert.That(proxy.RefusedClients, Is.GreaterThanOrEqualTo(3));
        Assert.That((await served.ExecuteAsync("query-status")).ToElement().GetRawText(), Is.EqualTo("{}"), "the served client, all along");
    }
}
