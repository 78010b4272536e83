using System.Diagnostics;
using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>Mounting, unmounting, and what happens when QEMU stops answering or goes away, on each real QEMU.</summary>
[Category(Needs.Qemu), Category(Needs.Fuse), Category(Needs.Binary)]
[NonParallelizable]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class LifecycleTests(QemuPeer peer)
{
    [Test]
    public void SigtermUnmountsCleanly()
    {
        using var m = MountedQemu.Start(peer);
        Assert.That(File.ReadAllText(m.P("/machine/type")), Is.EqualTo(peer.Q35MachineType + "\n"));
        Assert.That(m.Terminate(15), Is.EqualTo(0));
        Assert.That(Mounts.IsMounted(m.Mount), Is.False);
        Assert.That(Directory.GetFileSystemEntries(m.Mount), Is.Empty, "the mountpoint is an empty directory again");
    }

    [Test]
    public void SigintUnmountsCleanly()
    {
        using var m = MountedQemu.Start(peer);
        Assert.That(m.Terminate(2), Is.EqualTo(0));
        Assert.That(Mounts.IsMounted(m.Mount), Is.False);
    }

    [Test]
    public void WhenQemuExitsTheDaemonUnmountsAndSaysWhy()
    {
        using var m = MountedQemu.Start(peer);
        m.Qemu.Signal(9);
        Assert.That(m.WaitForDaemonExit(TimeSpan.FromSeconds(5)), Is.EqualTo(1));
        Assert.That(Mounts.IsMounted(m.Mount), Is.False);
        Assert.That(m.Log, Does.Contain("QEMU went away"));
    }

    [Test]
    public void AReadOnlyMountRefusesWritesWithErofs()
    {
        using var m = MountedQemu.Start(peer, "ro");
        Assert.That(Posix.Write(m.P("/machine/hpet"), "false\n"), Is.EqualTo(Posix.EROFS));
        var r = ProcessRunner.Sh($"echo off > '{m.P("/machine/hpet")}'");
        Assert.That(r.StdErr, Does.Contain("Read-only file system"));
        Assert.That(ProcessRunner.Sh($"stat -c %a '{m.P("/machine/hpet")}'").StdOut, Is.EqualTo("444\n"));
        Assert.That(m.Raw("/machine", "hpet").GetAwaiter().GetResult(), Is.EqualTo("true"));
    }

    [Test]
    public void AFrozenQemuGivesEtimedoutAndRecovers()
    {
        using var m = MountedQemu.Start(peer, "timeout=0.5,cache_ttl=0");
        m.Qemu.Signal(19);
        try
        {
            var clock = Stopwatch.StartNew();
            Assert.That(Posix.Read(m.P("/machine/hpet")).Errno, Is.EqualTo(Posix.ETIMEDOUT));
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        }
        finally { m.Qemu.Signal(18); }
        // Until QEMU has answered the command that timed out, every operation fails at once.
        Wait.Until(() => Posix.Read(m.P("/machine/type")).Errno == 0, TimeSpan.FromSeconds(10), "QEMU to answer again");
        Assert.That(File.ReadAllText(m.P("/machine/type")), Is.EqualTo(peer.Q35MachineType + "\n"));
        Assert.That(File.ReadAllText(m.P("/machine/hpet")), Is.EqualTo("true\n"));
    }

    [Test]
    public void WithTheCacheOffChangesShowAtOnce()
    {
        using var m = MountedQemu.Start(peer, "cache_ttl=0");
        Assert.That(File.ReadAllText(m.P("/machine/hpet")), Is.EqualTo("true\n"));
        m.Check.ExecuteAsync("qom-set", w => { w.WriteString("path", "/machine"); w.WriteString("property", "hpet"); w.WriteBoolean("value", false); }).GetAwaiter().GetResult();
        Assert.That(File.ReadAllText(m.P("/machine/hpet")), Is.EqualTo("false\n"));
    }

    [Test]
    public void ObjectsThatComeAndGoShowAndAreListedWithinTheTtl()
    {
        using var m = MountedQemu.Start(peer, "cache_ttl=0.2");
        bool Listed() => Directory.GetFileSystemEntries(m.P("/objects")).Select(Path.GetFileName).Contains("extra");
        Assert.That(Listed(), Is.False); // the kernel now holds this listing
        Assert.That(Directory.Exists(m.P("/objects/extra")), Is.False);
        m.Check.ExecuteAsync("object-add", w => { w.WriteString("qom-type", "memory-backend-ram"); w.WriteString("id", "extra"); w.WriteNumber("size", 1 << 20); }).GetAwaiter().GetResult();
        Wait.Until(() => Directory.Exists(m.P("/objects/extra")), TimeSpan.FromSeconds(3), "the new object to appear");
        Wait.Until(Listed, TimeSpan.FromSeconds(3), "the new object to be listed");
        Assert.That(File.ReadAllText(m.P("/objects/extra/size")), Is.EqualTo("1048576\n"));
        m.Check.ExecuteAsync("object-del", w => w.WriteString("id", "extra")).GetAwaiter().GetResult();
        Wait.Until(() => !Directory.Exists(m.P("/objects/extra")), TimeSpan.FromSeconds(3), "the object to disappear");
        Wait.Until(() => !Listed(), TimeSpan.FromSeconds(3), "the object to leave the listing");
    }

    [Test]
    public void ADeletedDeviceLeavesTheListingAtOnceDespiteALongTtl()
    {
        // USB unplug needs no guest, so device_del completes on a paused VM and QEMU sends DEVICE_DELETED.
        using var m = MountedQemu.Start(peer, "cache_ttl=60", "-device", "qemu-xhci,id=xhci", "-device", "usb-kbd,id=kbd");
        Assert.That(File.ReadAllText(m.P("/machine/peripheral/kbd/type")), Is.EqualTo("usb-kbd\n"));
        Assert.That(Directory.GetFileSystemEntries(m.P("/machine/peripheral")).Select(Path.GetFileName), Does.Contain("kbd"));
        m.Check.ExecuteAsync("device_del", w => w.WriteString("id", "kbd")).GetAwaiter().GetResult();
        Wait.Until(() => !Directory.GetFileSystemEntries(m.P("/machine/peripheral")).Select(Path.GetFileName).Contains("kbd"),
            TimeSpan.FromSeconds(5), "the deleted device to leave the listing");
        Assert.That(Posix.Read(m.P("/machine/peripheral/kbd/type")).Errno, Is.EqualTo(Posix.ENOENT));
        Assert.That(m.Log, Does.Contain("device /machine/peripheral/kbd deleted"));
    }

    [Test]
    public void BackgroundMountReturnsOnceLiveAndUmountEndsTheDaemon()
    {
        using var qemu = QemuProcess.Start(peer);
        var dir = TempPaths.NewDirectory("bg");
        var mount = Path.Combine(dir, "m");
        Directory.CreateDirectory(mount);
        var log = Path.Combine(dir, "log");
        try
        {
            var r = Qomfs.Run("qomfs", ["mount", "-s", qemu.QmpSocket, mount, "-o", "log=" + log], TimeSpan.FromSeconds(15));
            Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((0, "")));
            Assert.That(Mounts.IsMounted(mount), Is.True, "live when mount returns");
            Assert.That(File.ReadAllText(Path.Combine(mount, "machine/type")), Is.EqualTo(peer.Q35MachineType + "\n"));
            var pid = int.Parse(File.ReadLines(log).First(l => l.Contains("serving")).Split("pid ")[1].TrimEnd(')'));

            // A shell inside the mount makes it busy: umount goes lazy.
            var shell = Process.Start(new ProcessStartInfo("/bin/sleep", "30") { WorkingDirectory = Path.Combine(mount, "machine"), UseShellExecute = false })!;
            try
            {
                var u = Qomfs.Run("qomfs", ["umount", mount]);
                Assert.That((u.ExitCode, u.StdErr), Is.EqualTo((0, "")));
                Assert.That(Mounts.IsMounted(mount), Is.False);
            }
            finally { shell.Kill(); shell.WaitForExit(); }
            Wait.Until(() => !Directory.Exists($"/proc/{pid}"), TimeSpan.FromSeconds(10), "the daemon to exit");
        }
        finally { Mounts.Unmount(mount); }
    }

    [Test]
    public void AnErrorBeforeTheMountIsLiveGoesToTheTerminal()
    {
        var dir = TempPaths.NewDirectory("bad");
        var r = Qomfs.Run("qomfs", ["mount", "-s", Path.Combine(dir, "none.sock"), dir], TimeSpan.FromSeconds(15));
        Assert.That(r.ExitCode, Is.EqualTo(3));
        Assert.That(r.StdErr, Does.StartWith("qomfs mount: cannot connect to ").And.Contain("no such socket"));
        Assert.That(Mounts.IsMounted(dir), Is.False);

        using var qemu = QemuProcess.Start(peer);
        r = Qomfs.Run("qomfs", ["mount", "-s", qemu.QmpSocket, Path.Combine(dir, "missing")]);
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((1, $"qomfs mount: mountpoint {dir}/missing is not a directory\n")));
        r = Qomfs.Run("qomfs", ["mount", "-s", qemu.QmpSocket, dir, "-o", "cache_ttl=-1"]);
        Assert.That(r.ExitCode, Is.EqualTo(2));
    }

    [Test]
    public void AMountOverADeadMountClearsItFirst()
    {
        using var qemu = QemuProcess.Start(peer);
        var mount = TempPaths.NewDirectory("dead");
        var daemon = Process.Start(new ProcessStartInfo(Qomfs.Binary, ["mount", "-f", "-s", qemu.QmpSocket, mount]) { UseShellExecute = false, RedirectStandardError = true })!;
        try
        {
            Wait.Until(() => Mounts.IsMounted(mount), TimeSpan.FromSeconds(10), "the mount");
            var proxy = File.ResolveLinkTarget(Path.Combine(mount, ".qmp.sock"), returnFinalTarget: false)!.FullName;
            daemon.Kill();
            daemon.WaitForExit();
            Assert.That(Posix.Read(Path.Combine(mount, "machine/type")).Errno, Is.EqualTo(Posix.ENOTCONN), "a dead mount");
            Assert.That(ProcessRunner.Run(Qomfs.Binary, ["umount", mount]).ExitCode, Is.EqualTo(0));
            Assert.That(Mounts.IsMounted(mount), Is.False);

            Assert.That(File.Exists(proxy), Is.True, "a killed daemon leaves its proxy socket");
            using (MountedQemu.Start(peer))
            {
                Assert.That(File.Exists(proxy), Is.False, "the next mount removes it");
                Assert.That(File.Exists(Path.ChangeExtension(proxy, ".mount")), Is.False, "and the dead daemon's entry");
            }
        }
        finally { Mounts.Unmount(mount); daemon.Dispose(); }
    }

    [Test]
    public void TheDropInQomFuseStaysInTheForeground()
    {
        using var qemu = QemuProcess.Start(peer);
        var mount = TempPaths.NewDirectory("fg");
        var daemon = Process.Start(new ProcessStartInfo(Qomfs.Named("qom-fuse"), ["-s", qemu.QmpSocket, mount]) { UseShellExecute = false, RedirectStandardError = true })!;
        try
        {
            Wait.Until(() => Mounts.IsMounted(mount), TimeSpan.FromSeconds(10), "the mount");
            Assert.That(daemon.HasExited, Is.False);
            Assert.That(File.ReadAllText(Path.Combine(mount, "machine/type")), Is.EqualTo(peer.Q35MachineType + "\n"));
            Posix.Kill(daemon.Id, 15);
            Assert.That(daemon.WaitForExit(10_000), Is.True);
            Assert.That(Mounts.IsMounted(mount), Is.False);
        }
        finally
        {
            if (!daemon.HasExited) daemon.Kill();
            Mounts.Unmount(mount);
            daemon.Dispose();
        }
    }
}
