using System.Text.Json;
using QomFs.Testing;

namespace QomFs.Qmp.Tests;

/// <summary>The client against each real QEMU.</summary>
[Category(Needs.Qemu)]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class RealQemuTests(QemuPeer peer)
{
    QemuProcess _qemu = null!;

    [SetUp] public void Start() => _qemu = QemuProcess.Start(peer);
    [TearDown] public void Stop() => _qemu.Dispose();

    Task<QmpClient> Connect(QmpClientOptions? o = null) => QmpClient.ConnectAsync(QmpAddress.Parse(_qemu.QmpSocket), o);

    [Test]
    public async Task GreetsNegotiatesAndRuns()
    {
        await using var c = await Connect();
        Assert.That(c.Greeting!.Major, Is.EqualTo(peer.Major));
        var status = (await c.ExecuteAsync("query-status")).ToElement();
        Assert.That(status.GetProperty("status").GetString(), Is.EqualTo("prelaunch"));
    }

    [Test]
    public async Task ThirtyTwoConcurrentCallersEachGetTheirOwnReply()
    {
        await using var c = await Connect();
        var cpu = "/machine/unattached/device[0]";
        var props = (await c.ExecuteAsync("qom-list", w => w.WriteString("path", cpu))).ToElement()
            .EnumerateArray().Where(p => !p.GetProperty("type").GetString()!.StartsWith("link<"))
            .Select(p => p.GetProperty("name").GetString()!).Take(64).ToArray();
        Assert.That(props, Has.Length.EqualTo(64));

        async Task<string?> Get(string name)
        {
            try { return (await c.ExecuteAsync("qom-get", w => { w.WriteString("path", cpu); w.WriteString("property", name); })).ToString(); }
            catch (QmpCommandException e) { return "error:" + e.Message; }
        }
        var expected = new Dictionary<string, string?>();
        foreach (var p in props) expected[p] = await Get(p);

        var callers = Enumerable.Range(0, 32).Select(i => Task.Run(async () =>
        {
            var mine = props.Skip(i * 2).Take(2).ToArray();
            var got = new List<(string, string?)>();
            for (var round = 0; round < 5; round++)
                foreach (var p in mine) got.Add((p, await Get(p)));
            return got;
        })).ToArray();
        var results = await Task.WhenAll(callers);
        var compared = 0;
        foreach (var (name, value) in results.SelectMany(r => r))
        {
            Assert.That(value, Is.EqualTo(expected[name]), name);
            compared++;
        }
        Assert.That(compared, Is.EqualTo(32 * 2 * 5));
    }

    [Test]
    public async Task WithOpeningsSentAheadQemuAnswersEveryCommandAsItsOwn()
    {
        await using var c = await Connect(new QmpClientOptions { SendAheadArgument = "path" });
        // Commands that begin with the opening and commands that do not, from callers at once.
        var callers = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            for (var round = 0; round < 5; round++)
            {
                var type = (await c.ExecuteAsync("qom-get", w => { w.WriteString("path", "/machine"); w.WriteString("property", "type"); })).ToElement();
                Assert.That(type.GetString(), Is.EqualTo(peer.Q35MachineType));
                var status = (await c.ExecuteAsync("query-status")).ToElement();
                Assert.That(status.GetProperty("status").GetString(), Is.EqualTo("prelaunch"));
                var e = Assert.ThrowsAsync<QmpCommandException>(() => c.ExecuteAsync("qom-list", w => w.WriteString("path", $"/machine/nope{i}")));
                Assert.That(e!.Description, Is.EqualTo($"Device '/machine/nope{i}' not found"));
            }
        })).ToArray();
        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(c.StrayReplies, Is.EqualTo(0));
        Assert.That(c.IsConnected, Is.True);
    }

    [Test]
    public async Task AnOpeningLeftOnTheWireDoesNotReachTheNextClient()
    {
        await using (var first = await Connect(new QmpClientOptions { SendAheadArgument = "path" }))
            await first.ExecuteAsync("qom-list", w => w.WriteString("path", "/machine"));
        // QEMU drops a disconnected client's unfinished input: the next one starts afresh.
        await using var next = await Connect();
        var status = (await next.ExecuteAsync("query-status")).ToElement();
        Assert.That(status.GetProperty("status").GetString(), Is.EqualTo("prelaunch"));
    }

    static Action<Utf8JsonWriter> PhandleStart(int? value) => w =>
    {
        w.WriteString("path", "/machine");
        w.WriteString("property", "phandle-start");
        if (value is { } v) w.WriteNumber("value", v);
    };

    async Task<int> ReadPhandleStart(QmpClient c) => (await c.ExecuteAsync("qom-get", PhandleStart(null))).ToElement().GetInt32();

    [Test]
    public async Task AnAnticipatedCommandRunsOnlyOnceItIsSent()
    {
        using var relay = new QmpRelay(_qemu.QmpSocket);
        await using var c = await QmpClient.ConnectAsync(QmpAddress.Parse(relay.SocketPath), new QmpClientOptions { SendAheadArgument = "path" });
        var before = await ReadPhandleStart(c);

        // Another command closes the anticipated one into a refusal, which QEMU runs nothing for and the client drops.
        c.Anticipate("qom-set", PhandleStart(before + 1));
        Assert.That(await ReadPhandleStart(c), Is.EqualTo(before), "the anticipated qom-set did not run");
        Assert.That(c.AnticipatedCommands, Is.EqualTo(0));

        c.Anticipate("qom-set", PhandleStart(before + 2));
        await c.ExecuteAsync("qom-set", PhandleStart(before + 2));
        Assert.That(c.AnticipatedCommands, Is.EqualTo(1));
        Assert.That(await ReadPhandleStart(c), Is.EqualTo(before + 2));

        Assert.That(c.StrayReplies, Is.EqualTo(0));
        Assert.That(c.IsConnected, Is.True);
        Assert.That(relay.Commands, Is.EqualTo(new[] { "qmp_capabilities", "qom-get", "qom-get", "qom-set", "qom-get" }));
    }

    [Test]
    public async Task AnAnticipatedCommandLeftOnTheWireNeverRuns()
    {
        int before;
        await using (var first = await Connect(new QmpClientOptions { SendAheadArgument = "path" }))
        {
            before = await ReadPhandleStart(first);
            first.Anticipate("qom-set", PhandleStart(before + 1));
        }
        await using var next = await Connect();
        Assert.That(await ReadPhandleStart(next), Is.EqualTo(before));
    }

    [Test]
    public async Task WithoutSendingAheadAnticipatingSendsNothing()
    {
        using var relay = new QmpRelay(_qemu.QmpSocket);
        await using var c = await QmpClient.ConnectAsync(QmpAddress.Parse(relay.SocketPath));
        await ReadPhandleStart(c);
        relay.Take(); // the negotiation's bytes with it
        await ReadPhandleStart(c);
        var (_, bytes) = relay.Take();
        c.Anticipate("qom-get", PhandleStart(null));
        await ReadPhandleStart(c);
        Assert.That(relay.Take().Bytes, Is.EqualTo(bytes), "the same request's bytes, and nothing ahead of it");
        Assert.That(c.AnticipatedCommands, Is.EqualTo(0));
    }

    [Test]
    public async Task EventsReachSubscribersAndASlowOneLosesTheOldest()
    {
        await using var c = await Connect();
        using var all = c.SubscribeEvents();
        using var slow = c.SubscribeEvents(capacity: 1);
        await c.ExecuteAsync("cont");
        await c.ExecuteAsync("stop");
        await c.ExecuteAsync("cont");

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var names = new List<string>();
        while (names.Count < 3) names.Add((await all.Reader.ReadAsync(deadline.Token)).Name);
        Assert.That(names, Is.EqualTo(new[] { "RESUME", "STOP", "RESUME" }));

        Assert.That(slow.Dropped, Is.EqualTo(2));
        var kept = await slow.Reader.ReadAsync(deadline.Token);
        Assert.That(kept.Name, Is.EqualTo("RESUME"));
        Assert.That(kept.Timestamp.Year, Is.GreaterThanOrEqualTo(2024));
        await c.ExecuteAsync("stop");
    }

    [Test]
    public async Task AnErrorCarriesClassAndDesc()
    {
        await using var c = await Connect();
        var e = Assert.ThrowsAsync<QmpCommandException>(() =>
            c.ExecuteAsync("qom-get", w => { w.WriteString("path", "/machine/nope"); w.WriteString("property", "x"); }));
        Assert.That(e!.ErrorClass, Is.EqualTo("DeviceNotFound"));
        Assert.That(e.Description, Is.EqualTo("Device '/machine/nope' not found"));
        Assert.That(e.Command, Is.EqualTo("qom-get"));
        Assert.That((await c.ExecuteAsync("query-status")).ToElement().ValueKind, Is.EqualTo(JsonValueKind.Object));
    }

    [Test]
    public async Task ATimeoutLeavesTheConnectionUsableAndDropsTheLateReply()
    {
        await using var c = await Connect();
        _qemu.Signal(19); // SIGSTOP
        try
        {
            var e = Assert.ThrowsAsync<QmpTimeoutException>(() => c.ExecuteAsync("query-status", timeout: TimeSpan.FromMilliseconds(200)));
            Assert.That(e!.Message, Does.Contain("query-status").And.Contain(_qemu.QmpSocket));
            // QEMU answers in order: until the late reply comes, nothing sent now could be answered sooner.
            var next = Assert.ThrowsAsync<QmpTimeoutException>(() => c.ExecuteAsync("query-name", timeout: TimeSpan.FromSeconds(30)));
            Assert.That(next!.Message, Does.Contain("not sent"));
        }
        finally { _qemu.Signal(18); } // SIGCONT
        await Wait.UntilAsync(() => Task.FromResult(c.StrayReplies == 1), TimeSpan.FromSeconds(5), "the late reply to be dropped");
        var status = (await c.ExecuteAsync("query-name")).ToElement();
        Assert.That(status.ValueKind, Is.EqualTo(JsonValueKind.Object));
    }

    [Test]
    public async Task ALostConnectionFailsEveryPendingCommandAtOnce()
    {
        await using var c = await Connect();
        _qemu.Signal(19);
        var pending = Enumerable.Range(0, 8).Select(_ => c.ExecuteAsync("query-status", timeout: TimeSpan.FromSeconds(30))).ToArray();
        _qemu.Signal(9);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var p in pending) Assert.ThrowsAsync<QmpConnectionException>(() => p);
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        Assert.That(c.IsConnected, Is.False);
        Assert.ThrowsAsync<QmpConnectionException>(() => c.ExecuteAsync("query-status"));
    }

    [Test]
    public async Task ASecondClientOnABusySocketTimesOutWithAReason()
    {
        await using var first = await Connect();
        var e = Assert.ThrowsAsync<QmpTimeoutException>(() => Connect(new QmpClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(300) }));
        Assert.That(e!.Message, Does.Contain("greeting").And.Contain("another client"));
    }

    [Test]
    public void NoServerIsAConnectionError()
    {
        var path = TempPaths.NewSocket("none");
        var e = Assert.ThrowsAsync<QmpConnectionException>(() => QmpClient.ConnectAsync(QmpAddress.Parse(path)));
        Assert.That(e!.Message, Does.Contain(path));
    }
}
