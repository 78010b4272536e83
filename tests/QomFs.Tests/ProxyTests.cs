using System.Diagnostics;
using System.Text;
using System.Text.Json;
using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>
/// The mount's QMP proxy (MOUNT/.qmp.sock) and .events, on each real QEMU, one mount per fixture: clients that
/// are not our library (a raw socket here), our own tools given QEMU's socket, bad input, and load.
/// </summary>
[Category(Needs.Qemu), Category(Needs.Fuse), Category(Needs.Binary)]
[NonParallelizable]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class ProxyTests(QemuPeer peer)
{
    MountedQemu _m = null!;
    string Sock => _m.P("/.qmp.sock");

    [OneTimeSetUp] public void Mount() => _m = MountedQemu.Start(peer, "events");
    [OneTimeTearDown] public void Unmount() => _m.Dispose();

    [Test]
    public void TheSocketIsPrivateAndTheRootLinksToIt()
    {
        var target = new FileInfo(Sock).LinkTarget!;
        Assert.That(File.GetUnixFileMode(target), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.That(Directory.GetFileSystemEntries(_m.Mount).Select(Path.GetFileName), Does.Contain(".events").And.Contain(".qmp.sock"));
    }

    [Test]
    public void WithoutTheEventsOptionTheRootShowsTheProxyAlone()
    {
        using var plain = MountedQemu.Start(peer);
        var root = Directory.GetFileSystemEntries(plain.Mount).Select(Path.GetFileName).ToArray();
        Assert.That(root, Does.Contain(".qmp.sock").And.Not.Contain(".events"));
        Assert.That(File.Exists(plain.P("/.events")), Is.False);
    }

    [Test]
    public void AClientIsGreetedAsByQemuAndRefusedWhatCannotBeSharedInQemusWords()
    {
        using var c = new RawQmpClient(Sock, negotiate: false);
        var qmp = JsonDocument.Parse(c.Greeting).RootElement.GetProperty("QMP");
        Assert.That(qmp.GetProperty("version").GetProperty("qemu").GetProperty("major").GetInt32(), Is.EqualTo(peer.Major));
        Assert.That(qmp.GetProperty("capabilities").GetArrayLength(), Is.Zero, "no oob offered");
        Assert.That(c.Ask("""{"execute": "query-status", "id": 1}"""),
            Is.EqualTo("""{"id": 1, "error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}"""));
        Assert.That(c.Ask("""{"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}}"""),
            Is.EqualTo("""{"error": {"class": "GenericError", "desc": "Capability oob not available"}}"""));
        Assert.That(c.Ask("""{"execute": "qmp_capabilities"}"""), Is.EqualTo("""{"return": {}}"""));
        Assert.That(c.Ask("""{"execute": "qmp_capabilities", "id": "x"}"""),
            Is.EqualTo("""{"id": "x", "error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}}"""));
        Assert.That(c.Ask("garbage"), Is.EqualTo("""{"error": {"class": "GenericError", "desc": "JSON parse error, invalid keyword 'garbage'"}}"""));
        Assert.That(c.Ask("""{"exec-oob": "query-status", "id": 6}"""),
            Is.EqualTo("""{"id": 6, "error": {"class": "GenericError", "desc": "QMP input member 'exec-oob' is unexpected"}}"""));
        Assert.That(c.Ask("""{"execute": "getfd", "arguments": {"fdname": "f"}, "id": 7}"""), Does.Contain("\"id\": 7").And.Contain("cannot pass a file descriptor"));
        Assert.That(c.Ask("""{"execute": "query-name", "id": {"a": [1]}}"""), Is.EqualTo("""{"return": {}, "id": {"a": [1]}}"""));
    }

    [Test]
    public async Task AClientsCommandWaitsAsLongAsQemuTakesNotTheMountsTimeout()
    {
        using var m = MountedQemu.Start(peer, "timeout=1");
        using var c = new RawQmpClient(m.P("/.qmp.sock"));
        const int SIGSTOP = 19, SIGCONT = 18;
        m.Qemu.Signal(SIGSTOP);
        try
        {
            c.Send("""{"execute": "query-status", "id": "slow"}""");
            // QEMU stays frozen past the mount's 1 s deadline.
            await Task.Delay(TimeSpan.FromSeconds(1.5));
        }
        finally { m.Qemu.Signal(SIGCONT); }
        Assert.That(c.Reply(), Does.StartWith("""{"return": {""").And.EndWith("""}, "id": "slow"}"""), "QEMU's own reply, late");
        Assert.That(c.Ask("""{"execute": "query-name", "id": 2}"""), Is.EqualTo("""{"return": {}, "id": 2}"""));
    }

    [Test]
    public void RequestsAreReadAsQemuReadsThemSingleQuotesAndStringsOutsideAnObjectToo()
    {
        using var c = new RawQmpClient(Sock);
        const string NotAnObject = """{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}""";
        // QEMU's replies to the same bytes, sent to its own socket (7.2 and 11.1 alike).
        c.Send("\"abc\"");
        Assert.That(c.Ask("""{"execute": "query-name", "id": 8}"""), Is.EqualTo(NotAnObject));
        Assert.That(c.Reply(), Is.EqualTo("""{"return": {}, "id": 8}"""), "the request after a string is a request of its own");
        c.Send("'abc'");
        Assert.That(c.Ask("""{"execute": "query-name", "id": 9}"""), Is.EqualTo(NotAnObject));
        Assert.That(c.Reply(), Is.EqualTo("""{"return": {}, "id": 9}"""));
        Assert.That(c.Ask("{'execute': 'query-name', 'id': 'q'}"), Is.EqualTo("""{"return": {}, "id": "q"}"""));
        Assert.That(c.Ask("""{"execute": "query-name", "id": "it\'s"}"""), Is.EqualTo("""{"return": {}, "id": "it's"}"""));
        Assert.That(c.Ask("""{'execute': 'query-name', 'id': 'a"b'}"""), Is.EqualTo("""{"return": {}, "id": "a\"b"}"""));
        Assert.That(c.Ask("{'execute': 'query-name', 'id': ['x', {'k': 'v}'}]}"), Is.EqualTo("""{"return": {}, "id": ["x", {"k": "v}"}]}"""));
        Assert.That(c.Ask("{'execute': 'qom-get', 'arguments': {'path': '/machine', 'property': 'type'}}"),
            Is.EqualTo($$"""{"return": "{{peer.Q35MachineType}}"}"""));
        // Nested deeper than .NET writes by default, not as deep as QEMU refuses: QEMU's own answer.
        Assert.That(c.Ask($"{{\"execute\": \"query-name\", \"arguments\": {{\"x\": {new string('[', 1010)}{new string(']', 1010)}}}}}"),
            Is.EqualTo("""{"error": {"class": "GenericError", "desc": "Parameter 'x' is unexpected"}}"""));
    }

    [Test]
    public void OurToolsGivenQemusSocketGoThroughTheMountAndEventsReachEveryClientAndTheEventsFile()
    {
        // QEMU's own socket is held by the mount: without the proxy these would wait for a greeting that never comes.
        var get = Qomfs.Run("qom-get", ["-s", _m.Qemu.QmpSocket, "/machine.type"], TimeSpan.FromSeconds(10));
        Assert.That((get.ExitCode, get.StdOut), Is.EqualTo((0, peer.Q35MachineType + "\n")), get.StdErr);

        using var a = new RawQmpClient(Sock);
        using var b = new RawQmpClient(Sock);
        using var events = new FileStream(_m.P("/.events"), FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
        var shell = Qomfs.Run("qmp-shell", [_m.Qemu.QmpSocket], TimeSpan.FromSeconds(10),
            stdin: Encoding.UTF8.GetBytes("cont\nquery-status\nstop\n"));
        Assert.That(shell.ExitCode, Is.Zero, shell.StdErr);
        Assert.That(shell.StdOut, Does.Contain("\"running\":true"));
        foreach (var c in new[] { a, b }) Assert.That((c.NextEvent(), c.NextEvent()), Is.EqualTo(("RESUME", "STOP")));
        var lines = new StreamReader(events);
        Assert.That(lines.ReadLine(), Does.StartWith("{\"QMP\": ").And.Contain($"\"minor\": {peer.Minor}, \"major\": {peer.Major}}}"), "QEMU's greeting first");
        Assert.That(lines.ReadLine() + "\n" + lines.ReadLine(), Does.Contain("\"RESUME\"").And.Contain("\"STOP\""));
        // Their own ids, whoever else is talking.
        a.Send("""{"execute": "query-status", "id": "a"}""");
        b.Send("""{"execute": "query-name", "id": "b"}""");
        Assert.That(a.Reply(), Does.EndWith("\"id\": \"a\"}"));
        Assert.That(b.Reply(), Is.EqualTo("""{"return": {}, "id": "b"}"""));
    }

    [Test]
    public void AQomSetThroughTheProxyShowsInTheMountAtOnce()
    {
        Assert.That(File.ReadAllText(_m.P("/machine/hpet")), Is.EqualTo("true\n"));
        using var c = new RawQmpClient(Sock);
        try
        {
            // Spelled with empty components, as QEMU takes it too: the same file.
            Assert.That(c.Ask("""{"execute": "qom-set", "arguments": {"path": "//machine/", "property": "hpet", "value": false}}"""), Is.EqualTo("""{"return": {}}"""));
            Assert.That(File.ReadAllText(_m.P("/machine/hpet")), Is.EqualTo("false\n"), "within the 1 s TTL");
        }
        finally { c.Ask("""{"execute": "qom-set", "arguments": {"path": "/machine", "property": "hpet", "value": true}}"""); }
    }

    [Test]
    public void ADeviceAddedThroughTheProxyShowsInTheMountAtOnce()
    {
        // A TTL far longer than the test: only the proxy telling the cache and the kernel can show the device.
        using var m = MountedQemu.Start(peer, "cache_ttl=60", "-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1");
        var peripheral = m.P("/machine/peripheral");
        Assert.That(Directory.GetFileSystemEntries(peripheral).Select(Path.GetFileName), Does.Not.Contain("netx"));
        Assert.That(Directory.Exists(Path.Combine(peripheral, "netx")), Is.False, "looked up, and not there");
        using var c = new RawQmpClient(m.P("/.qmp.sock"));
        Assert.That(c.Ask("""{"execute": "device_add", "arguments": {"driver": "virtio-net-pci", "bus": "rp1", "id": "netx"}}"""),
            Is.EqualTo("""{"return": {}}"""));
        Assert.That(Directory.GetFileSystemEntries(peripheral).Select(Path.GetFileName), Does.Contain("netx"));
        Assert.That(File.ReadAllText(Path.Combine(peripheral, "netx", "type")), Is.EqualTo("virtio-net-pci\n"));
    }

    [Test]
    public void BadClientsLeaveTheMountAndOthersWorkingAndNothingLeaks()
    {
        using (var warm = new RawQmpClient(Sock)) warm.Ask("""{"execute": "query-name"}""");
        var fds = Directory.GetFiles($"/proc/{_m.DaemonPid}/fd").Length;
        var good = new RawQmpClient(Sock);
        // A huge request, then one behind it: QEMU's error for the first, an answer for the second.
        good.Send("{\"execute\": \"" + new string('x', 2 * 1024 * 1024) + "\"}");
        Assert.That(good.Ask("""{"execute": "query-name", "id": 2}"""), Does.Contain("JSON token size limit exceeded"));
        Assert.That(good.Reply(), Is.EqualTo("""{"return": {}, "id": 2}"""));
        // One that vanishes mid-command, and one that sends and never reads while events pile up.
        for (var i = 0; i < 5; i++)
        {
            var gone = new RawQmpClient(Sock);
            gone.Send("""{"execute": "qom-list", "arguments": {"path": "/machine/unattached/device[0]"}}""");
            gone.Dispose();
        }
        var deaf = new RawQmpClient(Sock);
        for (var i = 0; i < 300; i++) deaf.Send("""{"execute": "qom-list", "arguments": {"path": "/machine/unattached/device[0]"}}""");
        for (var i = 0; i < 50; i++) good.Ask("""{"execute": "query-name"}""");
        Assert.That(File.ReadAllText(_m.P("/machine/type")), Is.EqualTo(peer.Q35MachineType + "\n"));
        deaf.Dispose();
        good.Dispose();
        Wait.Until(() => Directory.GetFiles($"/proc/{_m.DaemonPid}/fd").Length <= fds, TimeSpan.FromSeconds(10), "the clients' descriptors to close");
        Assert.That(Process.GetProcessById(_m.DaemonPid).Threads.Count, Is.LessThan(64));
    }

    [Test]
    public void SixteenMountReadersAndFourClientsOf500CommandsEachLoseAndMisrouteNothing()
    {
        using var stop = new CancellationTokenSource();
        var readErrors = 0;
        var readers = Enumerable.Range(0, 16).Select(_ => new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
                if (File.ReadAllText(_m.P("/machine/type")) != peer.Q35MachineType + "\n") Interlocked.Increment(ref readErrors);
        })).ToArray();
        foreach (var t in readers) t.Start();
        var misrouted = 0;
        var clients = Enumerable.Range(0, 4).Select(n => Task.Run(() =>
        {
            using var c = new RawQmpClient(Sock);
            // Pipelined: all 500 sent before any reply is read.
            var sender = Task.Run(() => { for (var i = 0; i < 500; i++) c.Send($$"""{"execute": "query-name", "id": "{{n}}-{{i}}"}"""); });
            for (var i = 0; i < 500; i++)
                if (c.Reply() != $$"""{"return": {}, "id": "{{n}}-{{i}}"}""") Interlocked.Increment(ref misrouted);
            sender.Wait();
        })).ToArray();
        Assert.That(Task.WaitAll(clients, TimeSpan.FromSeconds(60)), Is.True, "a client hangs");
        stop.Cancel();
        foreach (var t in readers) Assert.That(t.Join(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That((misrouted, readErrors), Is.EqualTo((0, 0)));
    }
}
