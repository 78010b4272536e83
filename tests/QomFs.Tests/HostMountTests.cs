using System.Diagnostics;
using QomFs.Qmp;
using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>
/// Host mounts: every running libvirt domain (real libvirtd), or every QMP socket of a directory (real QEMU 7.2 and 11.1
/// side by side), as a directory of its own; VMs coming and going while mounted; connections opened on first use and
/// closed when idle; one frozen VM not slowing another.
/// </summary>
[Category(Needs.Qemu), Category(Needs.Fuse), Category(Needs.Binary)]
public class HostMountTests
{
    static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    // A directory where a launcher put each VM's QMP socket as NAME.qmp: here, links to the test's QEMUs.
    static string VmDirectory(params (string Name, QemuProcess Qemu)[] vms)
    {
        var dir = TempPaths.NewDirectory("vms");
        foreach (var (name, qemu) in vms) File.CreateSymbolicLink(Path.Combine(dir, name + ".qmp"), qemu.QmpSocket);
        return dir;
    }

    static string[] Listing(string dir) => Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).ToArray()!;

    [Test, Category(Needs.Libvirt)]
    public async Task LibvirtDomainsAppearAndVanishAsTheyStartAndStop()
    {
        using var first = LibvirtDomain.Start("hosta");
        using var m = ForegroundMount.Start("--libvirt", LibvirtDaemon.Uri);
        Assert.That(Listing(m.Mount), Does.Contain(first.Name));
        Assert.That(File.ReadAllText(m.P($"{first.Name}/machine/type")), Is.EqualTo(QemuPeer.Qemu72.Q35MachineType + "\n"));

        using var second = LibvirtDomain.Start("hostb", QemuPeer.Qemu11);
        Wait.Until(() => Listing(m.Mount).Contains(second.Name), Soon, $"{second.Name} to appear");
        Assert.That(File.ReadAllText(m.P($"{second.Name}/machine/type")), Is.EqualTo(QemuPeer.Qemu11.Q35MachineType + "\n"));
        await using (var client = await QmpClient.ConnectAsync(QmpAddress.Unix(m.P($"{second.Name}/.qmp.sock"))))
            Assert.That(await TypeOf(client), Is.EqualTo(QemuPeer.Qemu11.Q35MachineType), "a domain's own proxy, on its libvirt connection");

        first.Destroy();
        Wait.Until(() => !Listing(m.Mount).Contains(first.Name), Soon, $"{first.Name} to vanish");
        Assert.That(() => File.ReadAllText(m.P($"{first.Name}/machine/type")), Throws.InstanceOf<IOException>());
        Assert.That(File.ReadAllText(m.P($"{second.Name}/machine/type")), Is.EqualTo(QemuPeer.Qemu11.Q35MachineType + "\n"), "the other stays");
        Assert.That(m.Log, Does.Contain($"{first.Name}: gone"));
    }

    [Test, Category(Needs.Libvirt)]
    public void ALibvirtdRestartKeepsTheMountAndItsDomains()
    {
        using var first = LibvirtDomain.Start("hostr");
        using var m = ForegroundMount.Start("--libvirt", LibvirtDaemon.Uri);
        Assert.That(File.ReadAllText(m.P($"{first.Name}/machine/type")), Is.EqualTo(QemuPeer.Qemu72.Q35MachineType + "\n"));
        LibvirtDaemon.Restart();
        Wait.Until(() => m.Log.Contains("libvirt: reconnected"), Soon, "the mount to reconnect to libvirtd");
        Assert.That(m.HasExited, Is.False);
        // The domain's own connection was lost with libvirtd; its next use opens a new one.
        Assert.That(File.ReadAllText(m.P($"{first.Name}/machine/type")), Is.EqualTo(QemuPeer.Qemu72.Q35MachineType + "\n"));
        using var second = LibvirtDomain.Start("hosts");
        Wait.Until(() => Listing(m.Mount).Contains(second.Name), Soon, $"{second.Name} to appear after the restart");
    }

    [Test]
    public void SocketsAppearAndVanishAsTheyAreMadeAndRemoved()
    {
        using var old = QemuProcess.Start(QemuPeer.Qemu72);
        using var modern = QemuProcess.Start(QemuPeer.Qemu11);
        var dir = VmDirectory(("old", old));
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "not a socket");
        using var m = ForegroundMount.Start("--dir", dir, "-o", "cache_ttl=0");
        Assert.That(Listing(m.Mount), Is.EqualTo(new[] { "old" }), "a directory per socket, named after it; other files are no VM");
        Assert.That(File.ReadAllText(m.P("old/machine/type")), Is.EqualTo(QemuPeer.Qemu72.Q35MachineType + "\n"));

        File.CreateSymbolicLink(Path.Combine(dir, "modern.qmp"), modern.QmpSocket);
        Wait.Until(() => Listing(m.Mount).Contains("modern"), Soon, "modern to appear");
        Assert.That(File.ReadAllText(m.P("modern/machine/type")), Is.EqualTo(QemuPeer.Qemu11.Q35MachineType + "\n"));

        File.Delete(Path.Combine(dir, "old.qmp"));
        Wait.Until(() => !Listing(m.Mount).Contains("old"), Soon, "old to vanish");
        Assert.That(() => File.ReadAllText(m.P("old/machine/type")), Throws.InstanceOf<IOException>());
        Assert.That(File.ReadAllText(m.P("modern/machine/type")), Is.EqualTo(QemuPeer.Qemu11.Q35MachineType + "\n"));
        Directory.Delete(dir, recursive: true);
    }

    [Test]
    public void TheRootListingFollowsVmsAfterAVmsDirectoriesWereRead()
    {
        using var one = QemuProcess.Start(QemuPeer.Qemu72);
        using var two = QemuProcess.Start(QemuPeer.Qemu11);
        var dir = VmDirectory(("one", one));
        using var m = ForegroundMount.Start("--dir", dir);
        var mounted = Directory.GetLastWriteTimeUtc(m.Mount);
        // A VM's directories are opened without a round trip, and from then on the kernel opens the root so too,
        // caching its listing: each VM that comes or goes must drop that cache.
        Assert.That(Listing(m.P("one/machine")), Does.Contain("peripheral-anon"));
        Assert.That(Listing(m.Mount), Is.EqualTo(new[] { "one" }));

        File.CreateSymbolicLink(Path.Combine(dir, "two.qmp"), two.QmpSocket);
        Wait.Until(() => m.Log.Contains("two: appeared"), Soon, "two to be seen");
        Assert.That(Listing(m.Mount), Is.EquivalentTo(new[] { "one", "two" }), "the listing right after the VM came");
        Assert.That(Directory.GetLastWriteTimeUtc(m.Mount), Is.GreaterThan(mounted), "the root's mtime says it changed");
        Assert.That(Listing(m.P("two/machine")), Does.Contain("peripheral-anon"));

        File.Delete(Path.Combine(dir, "one.qmp"));
        Wait.Until(() => m.Log.Contains("one: gone"), Soon, "one to be seen going");
        Assert.That(Listing(m.Mount), Is.EqualTo(new[] { "two" }), "the listing right after the VM went");
        Assert.That(Directory.Exists(m.P("one")), Is.False);
        Directory.Delete(dir, recursive: true);
    }

    [Test]
    public async Task AVmIsSentNothingUntilUsedAndItsConnectionClosesWhenIdle()
    {
        using var qemu = QemuProcess.Start(QemuPeer.Qemu72);
        var dir = VmDirectory(("vm", qemu));
        using var m = ForegroundMount.Start("--dir", dir, "-o", "idle_timeout=1");
        Assert.That(Listing(m.Mount), Is.EqualTo(new[] { "vm" }));
        // A QMP socket greets one client at a time: a greeting now means the mount holds no connection.
        var quick = new QmpClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(500) };
        (await QmpClient.ConnectAsync(QmpAddress.Unix(qemu.QmpSocket), quick)).Dispose();

        Assert.That(File.ReadAllText(m.P("vm/machine/type")), Is.EqualTo(QemuPeer.Qemu72.Q35MachineType + "\n"));
        Assert.ThrowsAsync<QmpTimeoutException>(() => QmpClient.ConnectAsync(QmpAddress.Unix(qemu.QmpSocket), quick), "in use: the mount holds it");
        Wait.Until(() => m.Log.Contains("vm: idle for 1 s, connection closed"), Soon, "the idle connection to close");
        (await QmpClient.ConnectAsync(QmpAddress.Unix(qemu.QmpSocket), quick)).Dispose();
        Assert.That(File.ReadAllText(m.P("vm/machine/type")), Is.EqualTo(QemuPeer.Qemu72.Q35MachineType + "\n"), "the next use connects again");
        Directory.Delete(dir, recursive: true);
    }

    [TestCaseSource(typeof(QemuPeer), nameof(QemuPeer.All))]
    public async Task AVmTellsTheKernelOfADeletedDeviceAtOnceAndStoresItsListedValues(QemuPeer peer)
    {
        Require.Tool("fincore", "seeing which pages the kernel holds");
        // USB unplug needs no guest, so device_del completes on a paused VM and QEMU sends DEVICE_DELETED.
        using var qemu = QemuProcess.Start(peer, "-device", "qemu-xhci,id=xhci", "-device", "usb-kbd,id=kbd");
        var dir = VmDirectory(("vm", qemu));
        using var m = ForegroundMount.Start("--dir", dir, "-o", "cache_ttl=60");
        await using var check = await QmpClient.ConnectAsync(QmpAddress.Unix(qemu.SecondSocket));
        var kbd = m.P("vm/machine/peripheral/kbd");

        _ = Directory.GetFileSystemEntries(kbd); // the listing to its end, no file read
        if (peer.HasQomListGet)
            Wait.Until(() => PageCache.ResidentPages($"{kbd}/type") == 1, Soon, "the listed value's page, stored under /vm");
        else Assert.That(PageCache.ResidentPages($"{kbd}/type"), Is.Zero, "QEMU 7.2's listing has no values");
        Assert.That(File.ReadAllText($"{kbd}/type"), Is.EqualTo("usb-kbd\n"));

        await check.ExecuteAsync("device_del", w => w.WriteString("id", "kbd"));
        Wait.Until(() => !Listing(m.P("vm/machine/peripheral")).Contains("kbd"), TimeSpan.FromSeconds(5),
            "the deleted device to leave the listing, well within the 60 s TTL");
        Assert.That(Posix.Read($"{kbd}/type").Errno, Is.EqualTo(Posix.ENOENT));
        Assert.That(m.Log, Does.Contain("device /machine/peripheral/kbd deleted"));
        Directory.Delete(dir, recursive: true);
    }

    [Test]
    public async Task EachVmHasAProxyThatConnectsWhenAClientComesAndHoldsItWhileItStays()
    {
        using var old = QemuProcess.Start(QemuPeer.Qemu72);
        using var modern = QemuProcess.Start(QemuPeer.Qemu11);
        var dir = VmDirectory(("old", old), ("modern", modern));
        var proxies = TempPaths.NewDirectory("proxies");
        using var m = ForegroundMount.Start("--dir", dir, "-o", $"idle_timeout=1,cache_ttl=60,events,qmp_proxy={proxies}");
        var modernProxy = Path.Combine(proxies, "modern.qmp");
        Assert.That(Directory.GetFileSystemEntries(proxies).Select(Path.GetFileName), Is.EquivalentTo(new[] { "old.qmp", "modern.qmp" }));
        // A QMP socket greets one client at a time: a greeting now means the mount holds no connection.
        var quick = new QmpClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(500) };
        (await QmpClient.ConnectAsync(QmpAddress.Unix(modern.QmpSocket), quick)).Dispose();

        await using (var client = await QmpClient.ConnectAsync(QmpAddress.Unix(modernProxy)))
        {
            Assert.That(await TypeOf(client), Is.EqualTo(QemuPeer.Qemu11.Q35MachineType));
            Assert.That(m.Log, Does.Contain("modern: connected to"), "the client's coming opened the VM's connection");
            Assert.That(File.ReadAllText(m.P("modern/machine/hpet")), Is.EqualTo("true\n"));
            await client.ExecuteAsync("qom-set", w => { w.WriteString("path", "/machine"); w.WriteString("property", "hpet"); w.WriteBoolean("value", false); });
            Assert.That(File.ReadAllText(m.P("modern/machine/hpet")), Is.EqualTo("false\n"), "the proxy's qom-set left the VM's cache (60 s TTL)");
            using (var events = new StreamReader(new FileStream(m.P("modern/.events"), FileMode.Open, FileAccess.Read, FileShare.Read, 1)))
            {
                Assert.That(events.ReadLine(), Does.StartWith("""{"QMP": {"version": {"qemu": {"micro": """), "the VM's own greeting first");
                var next = Task.Run(events.ReadLine);
                await client.ExecuteAsync("cont");
                await client.ExecuteAsync("stop");
                Assert.That(next.Wait(Soon), Is.True, "an event within the deadline");
                Assert.That(next.Result, Does.Contain("\"event\": \"RESUME\""), "the proxy client's cont, in the VM's .events");
            }

            // Used after the client came, so idle later than the client's VM would be without it.
            Assert.That(File.ReadAllText(m.P("old/machine/type")), Is.EqualTo(QemuPeer.Qemu72.Q35MachineType + "\n"));
            Wait.Until(() => m.Log.Contains("old: idle for 1 s, connection closed"), Soon, "the other VM's idle connection to close");
            Assert.That(m.Log, Does.Not.Contain("modern: idle"), "a proxy client is a use for as long as it stays");
            Assert.That(await TypeOf(client), Is.EqualTo(QemuPeer.Qemu11.Q35MachineType), "on the same connection");
        }
        Wait.Until(() => m.Log.Contains("modern: idle for 1 s, connection closed"), Soon, "the connection to close once the client left");
        Assert.That(File.ResolveLinkTarget(m.P("modern/.qmp.sock"), returnFinalTarget: false)?.FullName, Is.EqualTo(modernProxy));
        Directory.Delete(dir, recursive: true);
    }

    [Test]
    public async Task AReaderOfAVmsEventsHoldsItsConnection()
    {
        using var qemu = QemuProcess.Start(QemuPeer.Qemu11);
        using var clock = QemuProcess.Start(QemuPeer.Qemu72);
        var dir = VmDirectory(("vm", qemu), ("clock", clock));
        using var m = ForegroundMount.Start("--dir", dir, "-o", "idle_timeout=1,events");
        await using var check = await QmpClient.ConnectAsync(QmpAddress.Unix(qemu.SecondSocket));
        using var events = new StreamReader(new FileStream(m.P("vm/.events"), FileMode.Open, FileAccess.Read, FileShare.Read, 1));
        Assert.That(events.ReadLine(), Does.StartWith("""{"QMP": """));

        // Used after the stream was opened, so idle later than the stream's VM would be without it.
        Assert.That(File.ReadAllText(m.P("clock/machine/type")), Is.EqualTo(QemuPeer.Qemu72.Q35MachineType + "\n"));
        Wait.Until(() => m.Log.Contains("clock: idle for 1 s, connection closed"), Soon, "the other VM's idle connection to close");
        var next = Task.Run(events.ReadLine);
        await check.ExecuteAsync("cont");
        await check.ExecuteAsync("stop");
        Assert.That(next.Wait(Soon), Is.True, "an event within the deadline");
        Assert.That(next.Result, Does.Contain("\"event\": \"RESUME\""), "the stream still open: its connection was kept");

        events.Dispose();
        Wait.Until(() => m.Log.Contains("vm: idle for 1 s, connection closed"), Soon, "the connection to close once the reader left");
        Directory.Delete(dir, recursive: true);
    }

    static async Task<string?> TypeOf(QmpClient client) =>
        (await client.ExecuteAsync("qom-get", w => { w.WriteString("path", "/machine"); w.WriteString("property", "type"); })).ToElement().GetString();

    [Test]
    public async Task AVmThatGoesTakesItsProxyAndItsClientsAndOneThatCannotBeReachedClosesThem()
    {
        using var qemu = QemuProcess.Start(QemuPeer.Qemu11);
        var dir = VmDirectory(("vm", qemu));
        var proxies = TempPaths.NewDirectory("proxies");
        // A socket nobody listens on: bound and never listening (closing it would remove its file).
        using var dead = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, 0);
        dead.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(Path.Combine(dir, "dead.qmp")));
        using var m = ForegroundMount.Start("--dir", dir, "-o", $"qmp_proxy={proxies}");
        Assert.That(Listing(m.Mount), Is.EquivalentTo(new[] { "vm", "dead" }));
        Assert.That(QmpAddress.IsUnixSocket(Path.Combine(proxies, "dead.qmp")), Is.True, "the unreachable VM's proxy listens");

        var clock = Stopwatch.StartNew();
        Assert.ThrowsAsync<QmpConnectionException>(() => QmpClient.ConnectAsync(QmpAddress.Unix(Path.Combine(proxies, "dead.qmp"))));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), "closed at once, not left to time out");
        Assert.That(m.Log, Does.Contain("dead: a QMP proxy client was closed"));

        await using var client = await QmpClient.ConnectAsync(QmpAddress.Unix(Path.Combine(proxies, "vm.qmp")));
        Assert.That(await TypeOf(client), Is.EqualTo(QemuPeer.Qemu11.Q35MachineType));
        File.Delete(Path.Combine(dir, "vm.qmp"));
        Assert.That(client.Disconnected.Wait(Soon), Is.True, "the VM's going closes its proxy's clients");
        Wait.Until(() => !File.Exists(Path.Combine(proxies, "vm.qmp")), Soon, "the VM's proxy socket to be removed");
        Directory.Delete(dir, recursive: true);
    }

    [Test]
    public void OurToolsGivenAVmsSocketGoThroughItsProxyWhileTheMountHoldsIt()
    {
        using var qemu = QemuProcess.Start(QemuPeer.Qemu72);
        var dir = VmDirectory(("vm", qemu));
        var socket = Path.Combine(dir, "vm.qmp");
        string proxy;
        using (var m = ForegroundMount.Start("--dir", dir))
        {
            Assert.That(File.ReadAllText(m.P("vm/machine/type")), Is.EqualTo(QemuPeer.Qemu72.Q35MachineType + "\n"), "the mount holds the VM's connection");
            proxy = File.ResolveLinkTarget(m.P("vm/.qmp.sock"), returnFinalTarget: false)!.FullName;
            Assert.That(QmpAddress.IsUnixSocket(proxy), Is.True, $"{proxy}: the default proxy socket, in the runtime directory");

            var r = Qomfs.Run("qom-get", ["-s", socket, "/machine.type"], TimeSpan.FromSeconds(10));
            Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((0, "")));
            Assert.That(r.StdOut, Is.EqualTo(QemuPeer.Qemu72.Q35MachineType + "\n"));
        }
        Assert.That(File.Exists(proxy), Is.False, "the mount's end removes its VMs' proxy sockets");
        Assert.That(File.Exists(Path.ChangeExtension(proxy, ".mount")), Is.False, "and their entries in the runtime directory");
        Directory.Delete(dir, recursive: true);
    }

    [Test]
    public void AFrozenVmDoesNotSlowAnother()
    {
        using var frozen = QemuProcess.Start(QemuPeer.Qemu72);
        using var other = QemuProcess.Start(QemuPeer.Qemu72);
        var dir = VmDirectory(("frozen", frozen), ("other", other));
        using var m = ForegroundMount.Start("--dir", dir, "-o", "timeout=2,cache_ttl=0");
        Assert.That(File.ReadAllText(m.P("frozen/machine/type")), Is.EqualTo(QemuPeer.Qemu72.Q35MachineType + "\n"));
        frozen.Signal(19);
        try
        {
            var blocked = new Thread(() => Posix.Read(m.P("frozen/machine/kernel")));
            blocked.Start();
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < 20; i++)
                Assert.That(File.ReadAllText(m.P("other/machine/type")), Is.EqualTo(QemuPeer.Qemu72.Q35MachineType + "\n"));
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)), "the other VM answers while the frozen one holds a reader");
            Assert.That(Posix.Read(m.P("frozen/machine/hpet")).Errno, Is.EqualTo(Posix.ETIMEDOUT), "the frozen VM's reads end with its timeout");
            Assert.That(blocked.Join(Soon), Is.True, "no hang");
        }
        finally { frozen.Signal(18); }
        Directory.Delete(dir, recursive: true);
    }
}
