using System.Diagnostics;
using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>
/// The proxy's bounds and life, on each real QEMU: 16 clients served and the 17th told why in QMP, a freed place
/// taken again; and after QEMU is killed and comes back (<c>-o reconnect</c>) the old clients are closed and a new
/// proxy serves the new QEMU, to our tools too.
/// </summary>
[Category(Needs.Qemu), Category(Needs.Fuse), Category(Needs.Binary)]
[NonParallelizable]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class ProxyLimitsTests(QemuPeer peer)
{
    const int MaxClients = 16; // QmpProxyOptions.MaxClients, as the README documents it
    const string TooMany = "too many clients: the QomFs QMP proxy serves at most 16 at once";
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Test]
    public void SixteenClientsAreServedTheSeventeenthIsToldWhyAndAFreedPlaceIsTakenAgain()
    {
        using var m = MountedQemu.Start(peer);
        var sock = m.P("/.qmp.sock");
        var clients = Enumerable.Range(0, MaxClients).Select(_ => new RawQmpClient(sock)).ToList();
        try
        {
            // Greeted as any client, then each of its requests is answered with the reason, with its id.
            using (var refused = new RawQmpClient(sock, negotiate: false))
            {
                Assert.That(refused.Greeting, Does.StartWith("{\"QMP\": {\"version\": {\"qemu\": {"));
                Assert.That(refused.Ask("""{"execute": "qmp_capabilities", "id": 17}"""),
                    Is.EqualTo($$$"""{"id": 17, "error": {"class": "GenericError", "desc": "{{{TooMany}}}"}}"""));
                Assert.That(refused.Ask("""{"execute": "query-status", "id": "again"}"""),
                    Is.EqualTo($$$"""{"id": "again", "error": {"class": "GenericError", "desc": "{{{TooMany}}}"}}"""), "every request, until it goes");
            }
            // Each client says so in its own way: ours and QEMU's own qmp-shell, which exit rather than wait.
            var ours = Qomfs.Run("qom-get", ["-s", m.Qemu.QmpSocket, "/machine.type"], Deadline);
            Assert.That((ours.ExitCode, ours.StdErr), Is.Not.EqualTo((0, "")));
            Assert.That(ours.StdErr, Does.Contain(TooMany).And.Not.Contain("   at "), "one clear line");
            var upstream = UpstreamQmpShell.Run(sock, "query-status\n", Deadline);
            Assert.That(upstream.ExitCode, Is.Not.Zero);
            // qemu.qmp shows the refusal of its qmp_capabilities, without the desc (its NegotiationError prints none).
            Assert.That(upstream.StdErr, Does.Contain("Negotiation failed"));

            for (var i = 0; i < clients.Count; i++)
                Assert.That(clients[i].Ask($$"""{"execute": "query-name", "id": {{i}}}"""), Is.EqualTo($$"""{"return": {}, "id": {{i}}}"""));

            clients[0].Dispose();
            clients.RemoveAt(0);
            // The proxy learns of the close on its own time: a new client is admitted within the deadline, and served.
            RawQmpClient? again = null;
            Wait.Until(() => (again = TryClient(sock)) is not null, Deadline, "the freed place to be taken");
            clients.Add(again!);
            Assert.That(again!.Ask("""{"execute": "query-name", "id": "again"}"""), Is.EqualTo("""{"return": {}, "id": "again"}"""));
            Assert.That(File.ReadAllText(m.P("/machine/type")), Is.EqualTo(peer.Q35MachineType + "\n"), "the mount, beside 16 clients");
        }
        finally { foreach (var c in clients) c.Dispose(); }
    }

    // A negotiated client, or null if it was refused.
    static RawQmpClient? TryClient(string sock)
    {
        var c = new RawQmpClient(sock, negotiate: false);
        if (c.Ask("""{"execute": "qmp_capabilities"}""") == """{"return": {}}""") return c;
        c.Dispose();
        return null;
    }

    [Test]
    public void AfterReconnectTheOldClientsAreClosedAndANewProxyServesTheNewQemu()
    {
        using var m = MountedQemu.Start(peer, "reconnect,events");
        var sock = m.P("/.qmp.sock");
        var old = new RawQmpClient(sock);
        using var oldEvents = new FileStream(m.P("/.events"), FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
        Assert.That(old.Ask("""{"execute": "query-name"}"""), Is.EqualTo("""{"return": {}}"""));

        m.Qemu.Signal(9);
        m.Qemu.WaitForExit(TimeSpan.FromSeconds(5));
        Assert.That(old.ReadOrEnd(), Is.Null, "the old client's connection ends with QEMU");
        old.Dispose();
        using var oldLines = new StreamReader(oldEvents);
        Assert.That(oldLines.ReadLine(), Does.StartWith("{\"QMP\": "), "QEMU's greeting first");
        Assert.That(oldLines.ReadLine(), Is.Null, "an .events opened on the old QEMU ends with it");

        File.Delete(m.Qemu.QmpSocket);
        var start = peer.QemuStartInfo();
        foreach (var a in new[] { "-M", "q35", "-nodefaults", "-display", "none", "-S",
                     "-qmp", $"unix:{m.Qemu.QmpSocket},server=on,wait=off" })
            start.ArgumentList.Add(a);
        start.UseShellExecute = false;
        start.RedirectStandardError = true;
        var qemu = Process.Start(start)!;
        try
        {
            Wait.Until(() => Posix.Read(m.P("/machine/type")).Errno == 0, Deadline, "the mount to serve again");
            RawQmpClient? a = null;
            Wait.Until(() => (a = TryConnect(sock)) is not null, Deadline, "a proxy on the new connection");
            using var first = a!;
            using var second = new RawQmpClient(sock);
            // QEMU's only QMP socket is the mount's: a reply at all means it came through the new proxy.
            Assert.That(first.Ask("""{"execute": "query-status", "id": 1}"""), Does.Contain("\"status\": \"prelaunch\"").And.EndWith("\"id\": 1}"));
            first.Send("""{"execute": "cont", "id": 2}""");
            Assert.That(first.Reply(), Is.EqualTo("""{"return": {}, "id": 2}"""));
            Assert.That(second.NextEvent(), Is.EqualTo("RESUME"), "the new QEMU's events reach every new client");

            var ours = Qomfs.Run("qom-get", ["-s", m.Qemu.QmpSocket, "/machine.type"], Deadline);
            Assert.That((ours.ExitCode, ours.StdOut), Is.EqualTo((0, peer.Q35MachineType + "\n")), ours.StdErr);
        }
        finally
        {
            qemu.Kill();
            qemu.WaitForExit();
        }
    }

    // A negotiated client once something listens at the link's target again, or null.
    static RawQmpClient? TryConnect(string sock)
    {
        try { return new RawQmpClient(sock); }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException) { return null; }
    }
}
