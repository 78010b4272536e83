using System.Text.Json;
using QomFs.Testing;

namespace QomFs.Qmp.Tests.Libvirt;

/// <summary>The client over the libvirt transport, against a real libvirtd running a real QEMU 7.2 (Debian's own pair).</summary>
[Category(Needs.Libvirt), Category(Needs.Qemu)]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class LibvirtTransportTests(QemuPeer peer)
{
    LibvirtDomain _domain = null!;

    [OneTimeSetUp] public void Start() => _domain = LibvirtDomain.Start("transport", peer);
    [OneTimeTearDown] public void Stop() => _domain?.Dispose();

    Task<QmpClient> Connect() => QmpClient.ConnectAsync(QmpAddress.Parse(_domain.Address));

    static Task<QmpResult> Get(QmpClient c, string path, string property) =>
        c.ExecuteAsync("qom-get", w => { w.WriteString("path", path); w.WriteString("property", property); });

    [Test]
    public async Task RunsCommandsWithoutAGreetingOfItsOwn()
    {
        await using var c = await Connect();
        Assert.That(c.Greeting, Is.Null, "libvirt negotiated; the client read no greeting");
        Assert.That((await Get(c, "/machine", "type")).ToElement().GetString(), Is.EqualTo(peer.Q35MachineType));
        var status = (await c.ExecuteAsync("query-status")).ToElement();
        // Started paused: prelaunch until the events test has run it for a moment.
        Assert.That(status.GetProperty("status").GetString(), Is.AnyOf("prelaunch", "paused"));
    }

    [Test]
    public async Task ConcurrentCallersEachGetTheirOwnReply()
    {
        await using var c = await Connect();
        var names = new[] { "type", "kernel", "append", "dumpdtb", "graphics", "usb", "smm", "sata" };
        var expected = new Dictionary<string, string>();
        foreach (var n in names) expected[n] = (await Get(c, "/machine", n)).ToString();
        var callers = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            var got = new List<(string, string)>();
            for (var round = 0; round < 4; round++)
            {
                var n = names[(i + round) % names.Length];
                got.Add((n, (await Get(c, "/machine", n)).ToString()));
            }
            return got;
        })).ToArray();
        var all = (await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(30))).SelectMany(r => r).ToList();
        Assert.That(all, Has.Count.EqualTo(64));
        foreach (var (n, v) in all) Assert.That(v, Is.EqualTo(expected[n]), n);
    }

    [Test]
    public async Task QemusRefusalIsACommandError()
    {
        await using var c = await Connect();
        var e = Assert.ThrowsAsync<QmpCommandException>(() => c.ExecuteAsync("qom-list", w => w.WriteString("path", "/machine/nope")));
        Assert.That(e!.Description, Is.EqualTo("Device '/machine/nope' not found"));
        Assert.That((await Get(c, "/machine", "type")).ToElement().GetString(), Is.EqualTo(peer.Q35MachineType), "the session goes on");
    }

    [Test]
    public async Task QemusEventsArriveWithTheirData()
    {
        await using var c = await Connect();
        using var events = c.SubscribeEvents();
        // The domain's own state must stay as the fixture found it: paused.
        await c.ExecuteAsync("cont");
        await c.ExecuteAsync("stop");
        var got = new List<QmpEvent>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (got.Count < 2) got.Add(await events.Reader.ReadAsync(deadline.Token));
        Assert.That(got.Select(e => e.Name), Is.EqualTo(new[] { "RESUME", "STOP" }));
        Assert.That(got[0].Timestamp.Year, Is.GreaterThanOrEqualTo(2024), "the timestamp is QEMU's");
    }

    [Test]
    public void ABadDomainNameIsOneClearError()
    {
        var e = Assert.ThrowsAsync<QmpConnectionException>(() =>
            QmpClient.ConnectAsync(QmpAddress.Parse($"libvirt:{LibvirtDaemon.Uri}#no-such-domain")));
        Assert.That(e!.Message, Is.EqualTo(
            $"cannot connect to libvirt:{LibvirtDaemon.Uri}#no-such-domain: Domain not found: no domain with matching name 'no-such-domain'"));
    }

    [Test]
    public void AnUnreachableLibvirtIsOneClearError()
    {
        var e = Assert.ThrowsAsync<QmpConnectionException>(() =>
            QmpClient.ConnectAsync(QmpAddress.Parse("libvirt:qemu+unix:///system?socket=/nonexistent/sock#x")));
        Assert.That(e!.Message, Does.StartWith("cannot connect to libvirt:qemu+unix:///system?socket=/nonexistent/sock#x: Failed to connect socket"));
    }
}
