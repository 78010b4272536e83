using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using QomFs.Qmp;
using QomFs.Testing;

namespace QomFs.Qom.Tests;

/// <summary>
/// The QOM layer against each real QEMU, checked through a second, independent connection. One QEMU per fixture: the
/// tests that set values set them on both sides of the comparisons alike.
/// </summary>
[Category(Needs.Qemu)]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class RealQemuWalkTests(QemuPeer peer)
{
    QemuProcess _qemu = null!;
    QmpClient _qmp = null!, _check = null!;
    QomClient _qom = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _qemu = QemuProcess.Start(peer, "-object", "memory-backend-ram,id=mem0,size=64M");
        _qmp = await QmpClient.ConnectAsync(QmpAddress.Unix(_qemu.QmpSocket));
        _check = await QmpClient.ConnectAsync(QmpAddress.Unix(_qemu.SecondSocket));
        _qom = new QomClient(_qmp);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _qmp?.Dispose();
        _check?.Dispose();
        _qemu?.Dispose();
    }

    /// <summary>The expected text, computed independently of the codec: strings raw, the rest compact JSON.</summary>
    internal static string Expected(JsonElement value) => value.ValueKind == JsonValueKind.String
        ? value.GetString() + "\n"
        : JsonNode.Parse(value.GetRawText())!.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";

    [Test]
    public async Task EveryListingAndEveryValueUnderMachineMatchesARawRead()
    {
        var objects = 0;
        var values = 0;
        var queue = new Queue<string>(["/machine"]);
        while (queue.Count > 0)
        {
            var path = queue.Dequeue();
            objects++;
            var listing = await _qom.ListAsync(path);
            var raw = (await _check.ExecuteAsync("qom-list", w => w.WriteString("path", path))).ToElement();
            Assert.That(listing.Select(p => (p.Name, p.Type)),
                Is.EqualTo(raw.EnumerateArray().Select(e => (e.GetProperty("name").GetString()!, e.GetProperty("type").GetString()!))), path);

            foreach (var p in listing)
            {
                if (p.Kind == QomPropertyKind.Child) { queue.Enqueue(QomPath.Combine(path, p.Name)); continue; }
                if (p.Type == "struct tm") continue; // the RTC's clock moves between the two reads
                string expected;
                try { expected = Expected((await _check.ExecuteAsync("qom-get", w => { w.WriteString("path", path); w.WriteString("property", p.Name); })).ToElement()); }
                catch (QmpCommandException e) { expected = "error:" + e.Message; }
                string actual;
                try { actual = ValueCodec.FormatText((await _qom.GetAsync(path, p.Name)).Json.Span); }
                catch (QmpCommandException e) { actual = "error:" + e.Message; }
                Assert.That(actual, Is.EqualTo(expected), $"{path}.{p.Name}");
                values++;
            }
        }
        Assert.That(objects, Is.GreaterThan(200));
        Assert.That(values, Is.GreaterThan(1000));
    }

    [TestCase("/machine/unattached/device[0].sse4.2", "/machine/unattached/device[0]", "sse4.2")]
    [TestCase("/machine.hpet", "/machine", "hpet")]
    [TestCase("/objects/mem0.prealloc-threads", "/objects/mem0", "prealloc-threads")]
    public async Task ResolvesDottedNames(string dotted, string path, string property)
    {
        var r = await _qom.ResolveDottedAsync(dotted);
        Assert.That(r, Is.Not.Null);
        Assert.That((r!.Value.Path, r.Value.Property.Name), Is.EqualTo((path, property)));
    }

    [Test]
    public async Task ADottedNameThatNamesNothingResolvesToNull() =>
        Assert.That(await _qom.ResolveDottedAsync("/machine.nope.x"), Is.Null);

    [TestCase("/machine", "phandle-start", "42", "42")]
    [TestCase("/machine", "hpet", "off\n", "false")]
    [TestCase("/machine", "dt-compatible", "any text, with spaces\n", "\"any text, with spaces\"")]
    [TestCase("/objects/mem0", "policy", "bind", "\"bind\"")]
    [TestCase("/objects/mem0", "prealloc-threads", "0x3", "3")]
    public async Task SetThroughTheCodecReadsBackOnTheSecondSocket(string path, string name, string text, string json)
    {
        var type = (await _qom.ListAsync(path)).Single(p => p.Name == name).Type;
        await _qom.SetAsync(path, name, ValueCodec.Parse(text, type, name));
        var back = (await _check.ExecuteAsync("qom-get", w => { w.WriteString("path", path); w.WriteString("property", name); })).ToElement();
        Assert.That(back.GetRawText(), Is.EqualTo(json));
    }

    [Test]
    public async Task ListGetIsThereFromQemu101OnAndItsAbsenceIsRemembered()
    {
        for (var i = 0; i < 2; i++)
            Assert.That((await _qom.ListGetAsync(["/machine"]))?.Length, Is.EqualTo(peer.HasQomListGet ? 1 : null));
    }

    [Test]
    public async Task ADepthFirstWalkGetsEachCommandAfterTheSecondSentAhead()
    {
        // A QEMU of its own: the walk needs a connection through a relay, and caches nothing the other tests see.
        using var qemu = QemuProcess.Start(peer);
        using var relay = new QmpRelay(qemu.QmpSocket);
        await using var qmp = await QmpClient.ConnectAsync(QmpAddress.Unix(relay.SocketPath), new QmpClientOptions { SendAheadArgument = "path" });
        var cache = new QomCache(new QomClient(qmp), TimeSpan.FromMinutes(5));
        List<string> objects = [];
        List<(string Path, string Name)> files = [];
        async Task Walk(string path)
        {
            objects.Add(path);
            foreach (var p in (await cache.ListAsync(path)).Properties)
            {
                if (p.Kind == QomPropertyKind.Child) await Walk(QomPath.Combine(path, p.Name));
                else if (p.Kind == QomPropertyKind.Value) files.Add((path, p.Name));
            }
        }
        await Walk("/machine");
        Assert.That(objects, Has.Count.GreaterThan(100));
        // The first two fetches show the walk; every one after them was on the wire before it was asked for.
        Assert.That(qmp.AnticipatedCommands, Is.EqualTo(objects.Count - 2));
        var listing = peer.HasQomListGet ? "qom-list-get" : "qom-list";
        Assert.That(relay.Take().Commands, Is.EqualTo(new Dictionary<string, int> { ["qmp_capabilities"] = 1, [listing] = objects.Count }),
            "no command QEMU ran but the walk's own");

        // Reading every file in the walk's order: on QEMU 7.2 a qom-get each, on QEMU 11 the listings brought them.
        var read = 0;
        foreach (var (path, name) in files)
        {
            if (!peer.HasQomListGet || !cache.IsValueCached(path, name)) read++;
            try { await cache.GetTextAsync(path, name); }
            catch (QmpCommandException) { } // unreadable, as cat would find it
        }
        Assert.That(relay.Take().Commands.GetValueOrDefault("qom-get"), Is.EqualTo(read));
        if (!peer.HasQomListGet) Assert.That(qmp.AnticipatedCommands, Is.EqualTo(objects.Count - 2 + files.Count - 2));
        Assert.That(qmp.StrayReplies, Is.EqualTo(0));
    }
}
