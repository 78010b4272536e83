using System.Text;
using System.Text.Json;
using QomFs.Qmp;
using QomFs.Testing;

namespace QomFs.Qom.Tests;

/// <summary>
/// What differs on QEMU 11 from QEMU 7.2, checked on both real QEMUs, and the library's <c>qom-list-get</c> path
/// proven on QEMU 11 with its fallback on 7.2, by the commands each really sent. The QEMUs are shared: no test
/// changes them.
/// </summary>
[Category(Needs.Qemu)]
public class Qemu11FactsTests
{
    QemuProcess _modern = null!, _old = null!;
    QmpClient _modernCheck = null!, _oldCheck = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _modern = QemuProcess.Start(QemuPeer.Qemu11, "-object", "memory-backend-ram,id=mem0,size=64M");
        _old = QemuProcess.Start(QemuPeer.Qemu72, "-object", "memory-backend-ram,id=mem0,size=64M");
        _modernCheck = await QmpClient.ConnectAsync(QmpAddress.Unix(_modern.SecondSocket));
        _oldCheck = await QmpClient.ConnectAsync(QmpAddress.Unix(_old.SecondSocket));
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _modernCheck?.Dispose();
        _oldCheck?.Dispose();
        _modern?.Dispose();
        _old?.Dispose();
    }

    static async Task<JsonElement> Run(QmpClient c, string command, Action<Utf8JsonWriter>? args = null) =>
        (await c.ExecuteAsync(command, args)).ToElement();

    static Task<JsonElement> ListGet(QmpClient c, params string[] paths) => Run(c, "qom-list-get", w =>
    {
        w.WriteStartArray("paths");
        foreach (var p in paths) w.WriteStringValue(p);
        w.WriteEndArray();
    });

    static async Task<Dictionary<string, string>> Listing(QmpClient c, string path) =>
        (await Run(c, "qom-list", w => w.WriteString("path", path))).EnumerateArray()
        .ToDictionary(e => e.GetProperty("name").GetString()!, e => e.GetProperty("type").GetString()!);

    static async Task<string> Text(QmpClient c, string path, string property)
    {
        try { return RealQemuWalkTests.Expected(await Run(c, "qom-get", w => { w.WriteString("path", path); w.WriteString("property", property); })); }
        catch (QmpCommandException e) { return "error:" + e.Message; }
    }

    [Test]
    public async Task TheGreetingsSayTheVersionsTheirPackagesSay()
    {
        await using var modern = await QmpClient.ConnectAsync(QmpAddress.Unix(_modern.QmpSocket));
        await using var old = await QmpClient.ConnectAsync(QmpAddress.Unix(_old.QmpSocket));
        Assert.That((modern.Greeting!.Major, modern.Greeting.Minor), Is.EqualTo((QemuPeer.Qemu11.Major, QemuPeer.Qemu11.Minor)),
            "the modern root's package database names the QEMU it runs");
        Assert.That(modern.Greeting.Major, Is.GreaterThanOrEqualTo(11));
        Assert.That((old.Greeting!.Major, old.Greeting.Minor), Is.EqualTo((7, 2)));
    }

    [Test]
    public void APackagesUpstreamVersionIsReadFromADpkgStatusFile()
    {
        var status = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"status-{Guid.NewGuid():N}");
        File.WriteAllText(status, "Package: qemu-system-x86-xen\nVersion: 1:9.0.0-1\n\nPackage: qemu-system-x86\nStatus: install ok installed\nVersion: 1:11.1.3+ds-1\n\n");
        try
        {
            Assert.That(QemuPeer.InstalledVersion(status, "qemu-system-x86"), Is.EqualTo((11, 1)));
            Assert.That(QemuPeer.InstalledVersion(status, "qemu-guest-agent"), Is.Null);
            Assert.That(QemuPeer.InstalledVersion(status + ".missing", "qemu-system-x86"), Is.Null);
        }
        finally { File.Delete(status); }
    }

    [Test]
    public async Task OnlyElevenHasQomListGet()
    {
        static async Task<bool> Has(QmpClient c) =>
            (await Run(c, "query-commands")).EnumerateArray().Any(e => e.GetProperty("name").GetString() == "qom-list-get");
        Assert.That((await Has(_modernCheck), await Has(_oldCheck)), Is.EqualTo((true, false)));
        var e = Assert.ThrowsAsync<QmpCommandException>(() => ListGet(_oldCheck, "/machine"));
        Assert.That(e!.ErrorClass, Is.EqualTo("CommandNotFound"));
    }

    [Test]
    public async Task QomListGetGivesEveryPropertyOfQomListWithItsValueAndNoDescription()
    {
        var objects = (await ListGet(_modernCheck, "/machine", "/objects/mem0", "/machine/unattached/device[0]")).EnumerateArray().ToArray();
        Assert.That(objects, Has.Length.EqualTo(3), "one entry per path, in order");
        var paths = new[] { "/machine", "/objects/mem0", "/machine/unattached/device[0]" };
        for (var i = 0; i < paths.Length; i++)
        {
            var properties = objects[i].GetProperty("properties").EnumerateArray().ToArray();
            Assert.That(properties.ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("type").GetString()!),
                Is.EqualTo(await Listing(_modernCheck, paths[i])), paths[i]);
            var members = properties.SelectMany(p => p.EnumerateObject().Select(m => m.Name)).Distinct().Order().ToArray();
            Assert.That(members, Is.EqualTo(new[] { "name", "type", "value" }), $"{paths[i]}: no description, no default-value");
        }
        var machine = objects[0].GetProperty("properties").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("value"));
        Assert.That(machine["type"].GetString(), Is.EqualTo(QemuPeer.Qemu11.Q35MachineType));
        Assert.That(machine["unattached"].GetString(), Is.EqualTo("/machine/unattached"), "a child's value is its path");
        Assert.That(machine["memory-backend"].GetString(), Is.EqualTo("/objects/pc.ram"), "a link's value is its target");
    }

    [Test]
    public async Task AnUnreadablePropertyComesWithoutAValueAndOnlyThen()
    {
        const string cpu = "/machine/unattached/device[0]";
        var properties = (await ListGet(_modernCheck, cpu))[0].GetProperty("properties").EnumerateArray().ToArray();
        var withoutValue = properties.Where(p => !p.TryGetProperty("value", out _)).Select(p => p.GetProperty("name").GetString()!).ToArray();
        Assert.That(withoutValue, Is.EqualTo(new[] { "crash-information" }));
        Assert.That(await Text(_modernCheck, cpu, "crash-information"), Is.EqualTo("error:GenericError: No crash occurred"));
        foreach (var p in properties.Where(p => p.TryGetProperty("value", out _) && !p.GetProperty("type").GetString()!.StartsWith("child<")).Take(100))
        {
            var name = p.GetProperty("name").GetString()!;
            Assert.That(RealQemuWalkTests.Expected(p.GetProperty("value")), Is.EqualTo(await Text(_modernCheck, cpu, name)), name);
        }
    }

    [Test]
    public async Task AMissingPathFailsTheWholeQomListGet()
    {
        var e = Assert.ThrowsAsync<QmpCommandException>(() => ListGet(_modernCheck, "/machine", "/machine/nope"));
        Assert.That((e!.ErrorClass, e.Description), Is.EqualTo(("DeviceNotFound", "Device '/machine/nope' not found")));
        Assert.That((await ListGet(_modernCheck)).GetArrayLength(), Is.EqualTo(0), "no paths, no objects");
    }

    [Test]
    public async Task MachineTypesAreNamedForTheirVersion()
    {
        var modern = QemuPeer.Qemu11;
        Assert.That(await Text(_modernCheck, "/machine", "type"), Is.EqualTo($"pc-q35-{modern.Major}.{modern.Minor}-machine\n"));
        Assert.That(await Text(_oldCheck, "/machine", "type"), Is.EqualTo("pc-q35-7.2-machine\n"));
        Assert.That((modern.Q35MachineType, QemuPeer.Qemu72.Q35MachineType), Is.EqualTo(($"pc-q35-{modern.Major}.{modern.Minor}-machine", "pc-q35-7.2-machine")));
    }

    [Test]
    public async Task TheRtcIsLinkedFromMachineOnlyOnSevenTwo()
    {
        var old = await Listing(_oldCheck, "/machine");
        Assert.That(old["rtc_state"], Is.EqualTo("link<isa-device>"));
        Assert.That(await Text(_oldCheck, "/machine", "rtc_state"), Is.EqualTo("/machine/unattached/device[8]\n"));
        Assert.That(await Text(_oldCheck, "/machine/unattached/device[8]", "type"), Is.EqualTo("mc146818rtc\n"));

        Assert.That(await Listing(_modernCheck, "/machine"), Does.Not.ContainKey("rtc_state"));
        // The RTC is still there, as a child of the LPC bridge.
        Assert.That(await Text(_modernCheck, "/machine/unattached/device[2]/rtc", "type"), Is.EqualTo("mc146818rtc\n"));
    }

    [Test]
    public async Task MachinePropertiesThatCameAndWent()
    {
        var old = await Listing(_oldCheck, "/machine");
        var modern = await Listing(_modernCheck, "/machine");
        Assert.That(old.Keys.Except(modern.Keys).Order(), Is.EqualTo(new[] { "device-memory-region-size", "rtc_state" }));
        Assert.That(modern.Keys.Except(old.Keys).Order(StringComparer.Ordinal), Is.EqualTo(new[]
            { "aux-ram-share", "fd-bootchk", "ioport80[0]", "ioportF0[0]", "shim", "smp-cache", "spcr", "wdat", "x-change-vmfd-on-reset" }));
        // The port 0x80 and 0xF0 regions moved from /machine/unattached to /machine itself.
        Assert.That(modern["ioport80[0]"], Is.EqualTo("child<memory-region>"));
        Assert.That(await Listing(_oldCheck, "/machine/unattached"), Does.ContainKey("ioport80[0]"));
        Assert.That(await Listing(_modernCheck, "/machine/unattached"), Does.Not.ContainKey("ioport80[0]"));
    }

    [Test]
    public async Task MonitorsAreObjectsOnlyOnEleven()
    {
        var modern = await Listing(_modernCheck, "/objects");
        Assert.That(modern.Where(p => p.Value == "child<monitor-qmp>").Select(p => p.Key).Order(), Is.EqualTo(new[] { "compat_monitor0", "compat_monitor1" }));
        Assert.That((await Listing(_oldCheck, "/objects")).Keys.Order(), Is.EqualTo(new[] { "mem0", "pc.ram", "type" }));
    }

    [Test]
    public async Task QueryStatusHasNoSinglestepOnEleven()
    {
        static async Task<string[]> Members(QmpClient c) => [.. (await Run(c, "query-status")).EnumerateObject().Select(m => m.Name).Order()];
        Assert.That(await Members(_modernCheck), Is.EqualTo(new[] { "running", "status" }));
        Assert.That(await Members(_oldCheck), Is.EqualTo(new[] { "running", "singlestep", "status" }));
    }

    [Test]
    public async Task TheLibraryListsWithOneQomListGetOnElevenAndReadsEveryValueFromIt()
    {
        using var recorder = new QmpRelay(_modern.QmpSocket);
        await using var qmp = await QmpClient.ConnectAsync(QmpAddress.Unix(recorder.SocketPath));
        var cache = new QomCache(new QomClient(qmp), TimeSpan.FromMinutes(5));

        var listing = await cache.ListAsync("/machine");
        Assert.That(listing.Described, Is.False);
        Assert.That(listing.Properties.ToDictionary(p => p.Name, p => p.Type), Is.EqualTo(await Listing(_modernCheck, "/machine")));
        var values = listing.Properties.Where(p => p.Kind != QomPropertyKind.Child).ToArray();
        foreach (var p in values)
            Assert.That(Encoding.UTF8.GetString(await cache.GetTextAsync("/machine", p.Name)), Is.EqualTo(await Text(_modernCheck, "/machine", p.Name)), p.Name);
        Assert.That(values, Has.Length.GreaterThan(40));
        Assert.That(recorder.Commands, Is.EqualTo(new[] { "qmp_capabilities", "qom-list-get" }), "every value came with the listing");

        // Only a description costs a qom-list, and only once.
        await cache.DescribeAsync("/machine", "type");
        await cache.DescribeAsync("/machine", "hpet");
        Assert.That(recorder.Commands, Is.EqualTo(new[] { "qmp_capabilities", "qom-list-get", "qom-list" }));
    }

    [Test]
    public async Task TheClientsListGetMatchesQomGetOnEleven()
    {
        await using var qmp = await QmpClient.ConnectAsync(QmpAddress.Unix(_modern.QmpSocket));
        var objects = await new QomClient(qmp).ListGetAsync(["/objects/mem0", "/machine"]);
        Assert.That(objects, Has.Length.EqualTo(2));
        foreach (var p in objects![0].Properties)
            Assert.That(RealQemuWalkTests.Expected(p.Value!.Value), Is.EqualTo(await Text(_modernCheck, "/objects/mem0", p.Name)), p.Name);
        Assert.That(objects[1].Properties.Single(p => p.Name == "type").Value!.Value.GetString(), Is.EqualTo(QemuPeer.Qemu11.Q35MachineType));
    }

    [Test]
    public async Task TheLibraryFallsBackToQomListAndQomGetOnSevenTwoWithoutTryingQomListGet()
    {
        using var recorder = new QmpRelay(_old.QmpSocket);
        await using var qmp = await QmpClient.ConnectAsync(QmpAddress.Unix(recorder.SocketPath));
        var cache = new QomCache(new QomClient(qmp), TimeSpan.FromMinutes(5));

        var listing = await cache.ListAsync("/machine");
        Assert.That(listing.Properties.ToDictionary(p => p.Name, p => p.Type), Is.EqualTo(await Listing(_oldCheck, "/machine")));
        var values = listing.Properties.Where(p => p.Kind != QomPropertyKind.Child).ToArray();
        foreach (var p in values)
            Assert.That(Encoding.UTF8.GetString(await cache.GetTextAsync("/machine", p.Name)), Is.EqualTo(await Text(_oldCheck, "/machine", p.Name)), p.Name);
        // The 7.2 greeting settles it: qom-list-get is never sent.
        Assert.That(recorder.Commands, Is.EqualTo(new[] { "qmp_capabilities", "qom-list" }.Concat(values.Select(_ => "qom-get"))));
    }
}
