using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using QomFs.Qmp;
using QomFs.Qom;
using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>QEMU misbehaving, many callers at once, other users, on each real QEMU: nothing hangs, nothing is lost, nothing leaks.</summary>
[Category(Needs.Qemu), Category(Needs.Fuse), Category(Needs.Binary)]
[NonParallelizable]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class FaultTests(QemuPeer peer)
{
    [Test]
    public void ARefusalServedFromTheCacheIsLoggedOnce()
    {
        using var m = MountedQemu.Start(peer, "cache_ttl=60");
        const string path = "/machine/unattached/device[0]/crash-information"; // QEMU: "No crash occurred"
        for (var i = 0; i < 3; i++) Assert.That(Posix.Read(m.P(path)).Errno, Is.EqualTo(Posix.EIO));
        Assert.That(m.Log.Split($"read {path}: ").Length - 1, Is.EqualTo(1), m.Log);
    }

    [Test]
    public void QemuKilledDuringAFullDumpEndsTheDaemonAndUnmounts()
    {
        using var m = MountedQemu.Start(peer, "cache_ttl=0");
        var dump = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", $"while :; do grep -r . '{m.P("/machine")}' >/dev/null 2>&1; done"]) { UseShellExecute = false })!;
        try
        {
            Wait.Until(() => m.Log.Length > 0 && dump.Threads.Count > 0, TimeSpan.FromSeconds(5), "the dump to start");
            Thread.Sleep(0);
            m.Qemu.Signal(9);
            // The deadline is generous on purpose: how fast it goes is the bench's business.
            Assert.That(m.WaitForDaemonExit(TimeSpan.FromSeconds(5)), Is.EqualTo(1));
            Assert.That(Mounts.IsMounted(m.Mount), Is.False, "no dead mount left behind");
            Assert.That(m.Log, Does.Contain("QEMU went away").And.Contain("unmounting"));
        }
        finally { dump.Kill(); dump.WaitForExit(); }
    }

    [Test]
    public void WithReconnectTheMountWaitsForQemuAndServesAgain()
    {
        using var m = MountedQemu.Start(peer, "reconnect,cache_ttl=0");
        Assert.That(File.ReadAllText(m.P("/machine/hpet")), Is.EqualTo("true\n"));
        m.Qemu.Signal(9);
        m.Qemu.WaitForExit(TimeSpan.FromSeconds(5));
        Wait.Until(() => Posix.Read(m.P("/machine/hpet")).Errno == Posix.ENOTCONN, TimeSpan.FromSeconds(3), "ENOTCONN while QEMU is away");
        Assert.That(Mounts.IsMounted(m.Mount), Is.True);

        // A new QEMU on the same socket path.
        File.Delete(m.Qemu.QmpSocket);
        var start = peer.QemuStartInfo();
        foreach (var a in new[] { "-M", "q35", "-nodefaults", "-display", "none", "-S",
                     "-qmp", $"unix:{m.Qemu.QmpSocket},server=on,wait=off", "-global", "ICH9-LPC.noreboot=true" })
            start.ArgumentList.Add(a);
        start.UseShellExecute = false;
        start.RedirectStandardError = true;
        var qemu = Process.Start(start)!;
        try
        {
            Wait.Until(() => Posix.Read(m.P("/machine/type")).Errno == 0, TimeSpan.FromSeconds(10), "the mount to serve again");
            Assert.That(File.ReadAllText(m.P("/machine/type")), Is.EqualTo(peer.Q35MachineType + "\n"));
            Assert.That(m.Log, Does.Contain("reconnected"));
        }
        finally { qemu.Kill(); qemu.WaitForExit(); }
    }

    [Test]
    public async Task AFrozenQemuBoundsBlockedReadersAndNoLateReplyReachesTheWrongRequest()
    {
        using var m = MountedQemu.Start(peer, "timeout=1,cache_ttl=30");
        var names = new[] { "type", "hpet", "phandle-start", "graphics", "usb", "dump-guest-core", "mem-merge", "firmware" };
        var expected = new Dictionary<string, string>();
        foreach (var n in names) expected[n] = ValueCodec.FormatText(System.Text.Encoding.UTF8.GetBytes(await m.Raw("/machine", n)));
        Directory.GetFileSystemEntries(m.P("/machine")); // names are known: only the values need QEMU
        m.Qemu.Signal(19);
        try
        {
            var clock = Stopwatch.StartNew();
            var errnos = new int[24];
            var readers = Enumerable.Range(0, 24).Select(i => new Thread(() => errnos[i] = Posix.Read(m.P("/machine/" + names[i % names.Length])).Errno)).ToArray();
            foreach (var t in readers) t.Start();
            foreach (var t in readers) Assert.That(t.Join(TimeSpan.FromSeconds(30)), Is.True, "a reader hangs");
            // Where the listing brought the values too (qom-list-get), no read needs QEMU: none blocks at all.
            Assert.That(errnos, Is.All.EqualTo(peer.HasQomListGet ? 0 : Posix.ETIMEDOUT));
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(8)), "blocked readers are bounded by the timeout");
            Assert.That(Process.GetProcessById(m.DaemonPid).Threads.Count, Is.LessThan(64), "no thread pile-up");
        }
        finally { m.Qemu.Signal(18); }
        // After SIGCONT QEMU answers the timed-out requests late (until then reads fail at once); every read then
        // gets its own value.
        Wait.Until(() => Posix.Read(m.P("/machine/type")).Errno == 0, TimeSpan.FromSeconds(10), "QEMU to answer again");
        for (var round = 0; round < 3; round++)
            foreach (var n in names)
                Assert.That(File.ReadAllText(m.P("/machine/" + n)), Is.EqualTo(expected[n]), n);
    }

    [Test]
    public unsafe void AFrozenQemuCostsEveryOperationAtMostOneTimeoutWhateverItsDepth()
    {
        var timeout = TimeSpan.FromSeconds(2);
        using var m = MountedQemu.Start(peer, "timeout=2,cache_ttl=0");
        const string deep = "/machine/unattached/device[0]";
        Assert.That(Directory.GetFileSystemEntries(m.P(deep)), Is.Not.Empty);
        m.Qemu.Signal(19);
        try
        {
            // Before: each path component's command waited its own deadline behind the stuck one (3 s timeout:
            // 6 s for machine/type, 9 s for a listing of the CPU).
            var operations = new (string What, Func<int> Run)[]
            {
                ("ls " + deep, () => Fails(() => Directory.GetFileSystemEntries(m.P(deep)))),
                ("cat " + deep + "/type", () => Posix.Read(m.P(deep + "/type")).Errno),
                ("cat /machine/type", () => Posix.Read(m.P("/machine/type")).Errno),
                ("getfattr " + deep + "/parent_bus", () => Posix.Errno(() => (int)Posix.lgetxattr(m.P(deep + "/parent_bus"), "user.qom.type", null, 0))),
            };
            foreach (var (what, run) in operations)
            {
                var clock = Stopwatch.StartNew();
                var errno = run();
                Assert.That(clock.Elapsed, Is.LessThan(timeout + TimeSpan.FromSeconds(1)), what);
                Assert.That(errno, Is.Not.EqualTo(0), what);
            }
            Assert.That(Posix.Read(m.P("/machine/type")).Errno, Is.EqualTo(Posix.ETIMEDOUT));
        }
        finally { m.Qemu.Signal(18); }
        Wait.Until(() => Posix.Read(m.P(deep + "/type")).Errno == 0, TimeSpan.FromSeconds(10), "QEMU to answer again");
        Assert.That(File.ReadAllText(m.P("/machine/type")), Is.EqualTo(peer.Q35MachineType + "\n"));
    }

    static int Fails(Action call)
    {
        try { call(); return 0; }
        catch (IOException) { return -1; }
    }

    [Test]
    public async Task ThirtyTwoReadersTenThousandReadsZeroMismatches()
    {
        using var m = MountedQemu.Start(peer, "cache_ttl=0.05");
        var cpu = "/machine/unattached/device[0]";
        var listing = (await m.Check.ExecuteAsync("qom-list", w => w.WriteString("path", cpu))).ToElement().EnumerateArray()
            .Select(e => (Name: e.GetProperty("name").GetString()!, Type: e.GetProperty("type").GetString()!))
            .Where(e => QomProperty.KindOf(e.Type) == QomPropertyKind.Value).Select(e => e.Name).ToArray();
        var expected = new Dictionary<string, string>();
        foreach (var name in listing)
        {
            try { expected[name] = ValueCodec.FormatText((await m.Check.ExecuteAsync("qom-get", w => { w.WriteString("path", cpu); w.WriteString("property", name); })).Json.Span); }
            catch (QmpCommandException) { }
        }
        Assert.That(expected, Has.Count.GreaterThan(300));
        var keys = expected.Keys.ToArray();
        var mismatches = new ConcurrentBag<string>();
        var reads = 0;
        var perReader = new int[32];
        Parallel.For(0, 32, new ParallelOptions { MaxDegreeOfParallelism = 32 }, reader =>
        {
            var random = new Random(reader);
            for (var i = 0; i < 10_000 / 32 + 1; i++)
            {
                var name = keys[random.Next(keys.Length)];
                var (errno, data) = Posix.Read(m.P($"{cpu}/{name}"));
                if (errno != 0 || Encoding.UTF8.GetString(data) != expected[name]) mismatches.Add($"{name}: errno {errno}, {data.Length} bytes");
                Interlocked.Increment(ref reads);
                perReader[reader]++;
            }
        });
        Assert.That(reads, Is.GreaterThanOrEqualTo(10_000));
        Assert.That(mismatches, Is.Empty);
        Assert.That(perReader, Is.All.GreaterThan(0));
    }

    [Test]
    public async Task ParallelWritersToDifferentPropertiesAllLand()
    {
        using var m = MountedQemu.Start(peer, "", "-object", "memory-backend-ram,id=a,size=1M", "-object", "memory-backend-ram,id=b,size=1M",
            "-object", "memory-backend-ram,id=c,size=1M", "-object", "memory-backend-ram,id=d,size=1M");
        var targets = new[] { "a", "b", "c", "d" }.SelectMany(o => new[] { $"/objects/{o}/prealloc-threads", $"/objects/{o}/dump", $"/objects/{o}/merge" }).ToArray();
        for (var round = 0; round < 5; round++)
        {
            var errors = targets.AsParallel().WithDegreeOfParallelism(12).Select(t =>
                Posix.Write(m.P(t), t.EndsWith("threads") ? $"{round + 1}\n" : round % 2 == 0 ? "false\n" : "true\n")).ToArray();
            Assert.That(errors, Is.All.EqualTo(0));
            foreach (var t in targets)
            {
                var slash = t.LastIndexOf('/');
                Assert.That(await m.Raw(t[..slash], t[(slash + 1)..]),
                    Is.EqualTo(t.EndsWith("threads") ? $"{round + 1}" : round % 2 == 0 ? "false" : "true"), t);
            }
        }
    }

    [Test]
    public void NamesWithSpacesBracketsAndDotsWorkAndNothingEscapes()
    {
        using var m = MountedQemu.Start(peer);
        var r = ProcessRunner.Sh($"cd '{m.Mount}' && find . -name 'bus master*' | head -1");
        var busMaster = r.StdOut.Trim();
        Assert.That(busMaster, Does.Contain("bus master"), "the q35 tree has names with spaces and brackets");
        Assert.That(File.ReadAllText(Path.Combine(m.Mount, busMaster, "type")), Is.EqualTo("memory-region\n"));
        Assert.That(File.ReadAllText(m.P("/objects/pc.ram/size")), Is.EqualTo("134217728\n"));
        Assert.That(File.ReadAllText(m.P("/machine/unattached/device[0]/sse4.2")), Is.EqualTo("false\n"));
        Assert.That(Posix.Read(m.P("/machine/unattached/device[0]") + "/../../../machine/type").Errno, Is.EqualTo(0));
        // QEMU resolves partial paths such as "device[0]"; a mount path never reaches QEMU as one.
        Assert.That(Posix.Read(m.Mount + "/device[0]/type").Errno, Is.EqualTo(Posix.ENOENT));
        Assert.That(Posix.Read(m.Mount + "/unattached/type").Errno, Is.EqualTo(Posix.ENOENT));
        var escapes = ProcessRunner.Sh($"cd '{m.Mount}' && for l in machine/* machine/*/* objects/*/*; do [ -L \"$l\" ] && readlink -f \"$l\"; done | grep -v '^{m.Mount}/'");
        Assert.That(escapes.StdOut, Is.Empty, "every link resolves inside the mount");
    }

    [Test]
    public void AMountIsPrivateUnlessAllowOther()
    {
        Require.Tool("setpriv", "runs a command as another uid");
        using (var m = MountedQemu.Start(peer))
        {
            Directory.GetParent(m.Mount)!.UnixFileMode |= UnixFileMode.OtherExecute | UnixFileMode.OtherRead;
            var r = ProcessRunner.Run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "cat", m.P("/machine/type")]);
            Assert.That(r.ExitCode, Is.Not.EqualTo(0));
            Assert.That(r.StdErr, Does.Contain("Permission denied"));
        }
        using (var m = MountedQemu.Start(peer, "allow_other"))
        {
            Directory.GetParent(m.Mount)!.UnixFileMode |= UnixFileMode.OtherExecute | UnixFileMode.OtherRead;
            var r = ProcessRunner.Run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "cat", m.P("/machine/type")]);
            Assert.That((r.ExitCode, r.StdOut), Is.EqualTo((0, peer.Q35MachineType + "\n")));
            r = ProcessRunner.Run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/bin/sh", "-c", $"echo off > '{m.P("/machine/hpet")}'"]);
            Assert.That(r.ExitCode, Is.Not.EqualTo(0), "with allow_other, other users still only read (mode 0644)");
        }
    }

    [Test]
    public void AnUnreadableSocketOrOneThatIsNotQmpIsAClearErrorNotAHang()
    {
        Require.Tool("setpriv", "runs a command as another uid");
        using var qemu = QemuProcess.Start(peer);
        Directory.GetParent(qemu.QmpSocket)!.UnixFileMode |= UnixFileMode.OtherExecute;
        var r = ProcessRunner.Run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Qomfs.Named("qom-get"), "-s", qemu.QmpSocket, "/machine.type"], TimeSpan.FromSeconds(10));
        Assert.That(r.ExitCode, Is.EqualTo(3));
        Assert.That(r.StdErr, Does.Contain(qemu.QmpSocket).And.Contain("ermission denied"));

        using var silent = new ScriptedServer(c => c.WaitForCloseAsync(TimeSpan.FromSeconds(20)));
        var clock = Stopwatch.StartNew();
        r = Qomfs.Run("qom-get", ["-s", silent.SocketPath, "--timeout", "0.5", "/machine.type"]);
        Assert.That(r.ExitCode, Is.EqualTo(3));
        Assert.That(r.StdErr, Does.Contain("no QMP greeting"));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));

        using var http = new ScriptedServer(async c => { await c.SendLineAsync("HTTP/1.1 400 Bad Request"); await c.WaitForCloseAsync(TimeSpan.FromSeconds(5)); });
        var dir = TempPaths.NewDirectory("nq");
        r = Qomfs.Run("qomfs", ["mount", "-s", http.SocketPath, dir]);
        Assert.That(r.ExitCode, Is.EqualTo(3));
        Assert.That(r.StdErr, Does.StartWith("qomfs mount: invalid JSON"));
        Assert.That(Mounts.IsMounted(dir), Is.False);
    }

    [Test]
    public void AfterTheDaemonIsKilledMountingAgainClearsTheDeadMount()
    {
        using var qemu = QemuProcess.Start(peer);
        var mount = TempPaths.NewDirectory("again");
        var first = Process.Start(new ProcessStartInfo(Qomfs.Binary, ["mount", "-f", "-s", qemu.QmpSocket, mount]) { UseShellExecute = false })!;
        try
        {
            Wait.Until(() => Mounts.IsMounted(mount), TimeSpan.FromSeconds(10), "the first mount");
            first.Kill();
            first.WaitForExit();
            Assert.That(Posix.Read(Path.Combine(mount, "machine/type")).Errno, Is.EqualTo(Posix.ENOTCONN));
            var r = Qomfs.Run("qomfs", ["mount", "-s", qemu.QmpSocket, mount]);
            Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((0, "")));
            Assert.That(File.ReadAllText(Path.Combine(mount, "machine/type")), Is.EqualTo(peer.Q35MachineType + "\n"));
            Assert.That(File.ReadLines("/proc/mounts").Count(l => l.Split(' ')[1] == mount), Is.EqualTo(1), "replaced, not stacked");
            Assert.That(Qomfs.Run("qomfs", ["umount", mount]).ExitCode, Is.EqualTo(0));
        }
        finally
        {
            first.Dispose();
            Mounts.Unmount(mount);
        }
    }
}
