using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>
/// QEMU's own qmp-shell (python3-qemu-qmp, a QMP client we did not write) through a mount's <c>.qmp.sock</c>, on each
/// real QEMU, while our qom-get and a raw client use the same proxy: each gets its own answers.
/// </summary>
[Category(Needs.Qemu), Category(Needs.Fuse), Category(Needs.Binary)]
[NonParallelizable]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class ProxyUpstreamShellTests(QemuPeer peer)
{
    MountedQemu _m = null!;
    string Sock => _m.P("/.qmp.sock");

    [OneTimeSetUp] public void Mount() => _m = MountedQemu.Start(peer, "events");
    [OneTimeTearDown] public void Unmount() => _m.Dispose();

    [Test]
    public void UpstreamsShellOurQomGetAndARawClientAtOnceEachGetTheirOwnAnswers()
    {
        using var shell = UpstreamQmpShell.Start(Sock);
        Assert.That(shell.Banner, Does.Contain($"Connected to QEMU {peer.Major}.{peer.Minor}."), "QEMU's greeting, passed on");
        using var raw = new RawQmpClient(Sock);

        using var stop = new CancellationTokenSource();
        // Our tools, given QEMU's own socket, go through the mount's proxy, over and over for as long as the shell talks.
        var ours = Task.Run(() =>
        {
            var runs = new List<ProcessResult>();
            while (!stop.IsCancellationRequested || runs.Count < 2)
                runs.Add(Qomfs.Run("qom-get", ["-s", _m.Qemu.QmpSocket, "/machine.type"], TimeSpan.FromSeconds(10)));
            return runs;
        });
        // The raw client pipelines its commands, each with its own id, and checks every reply.
        var rawMisrouted = Task.Run(() =>
        {
            var wrong = new List<string>();
            var sender = Task.Run(() => { for (var i = 0; i < 300; i++) raw.Send($$"""{"execute": "query-name", "id": "raw-{{i}}"}"""); });
            for (var i = 0; i < 300; i++)
                if (raw.Reply() is var r && r != $$"""{"return": {}, "id": "raw-{{i}}"}""") wrong.Add(r);
            sender.Wait();
            return wrong;
        });

        for (var i = 0; i < 20; i++)
        {
            Assert.That(shell.Type("query-status"), Does.StartWith("{\"return\": {").And.Contain("\"running\": false"));
            Assert.That(shell.Type("qom-get path=/machine property=type"), Is.EqualTo($$"""{"return": "{{peer.Q35MachineType}}"}"""));
        }
        Assert.That(shell.Type("qom-get path=/machine property=no-such"), Does.StartWith("{\"error\": {\"class\": \"GenericError\""));

        Assert.That(rawMisrouted.Wait(TimeSpan.FromSeconds(30)), Is.True, "the raw client's replies");
        Assert.That(rawMisrouted.Result, Is.Empty, "replies the raw client got that were not its own");
        stop.Cancel();
        Assert.That(ours.Wait(TimeSpan.FromSeconds(30)), Is.True, "our qom-get runs");
        foreach (var run in ours.Result)
            Assert.That((run.ExitCode, run.StdOut), Is.EqualTo((0, peer.Q35MachineType + "\n")), run.StdErr);

        // Another client's cont and stop reach the shell as events, which it lists on an empty line.
        raw.Send("""{"execute": "cont", "id": "c"}""");
        Assert.That(raw.Reply(), Is.EqualTo("""{"return": {}, "id": "c"}"""));
        raw.Send("""{"execute": "stop", "id": "s"}""");
        Assert.That(raw.Reply(), Is.EqualTo("""{"return": {}, "id": "s"}"""));
        Assert.That(shell.Type("query-status"), Does.Contain("\"status\": \"paused\""));
        var events = "";
        Wait.Until(() => (events += shell.Type("") + "\n").Contains("'STOP'"), TimeSpan.FromSeconds(10), "qmp-shell to list the STOP event");
        Assert.That(events, Does.Contain("'event': 'RESUME'").And.Contain("'event': 'STOP'"));

        Assert.That(shell.Quit(TimeSpan.FromSeconds(10)), Is.Zero, shell.StdErr);
        Assert.That(File.ReadAllText(_m.P("/machine/type")), Is.EqualTo(peer.Q35MachineType + "\n"), "the mount, after all of it");
    }
}
