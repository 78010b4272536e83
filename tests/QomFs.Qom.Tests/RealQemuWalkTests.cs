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
}
