using QomFs.Testing;

namespace QomFs.Cli.Tests.Integration;

/// <summary>
/// The real mount(8), mount.fuse3 and umount(8) with type fuse.qomfs, and bash completion, against each real QEMU.
/// mount(8) gives mount.fuse3 no PATH, so its /bin/sh finds `qomfs` in the default PATH only: each scenario runs in
/// a mount namespace of its own (unshare -m) where bin/ is bound over /usr/local/sbin, the first directory of that
/// PATH; nothing is installed on the machine and nothing outside the namespace sees the mount.
/// </summary>
[Category(Needs.Qemu), Category(Needs.Fuse), Category(Needs.Binary)]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class MountHelperTests(QemuPeer peer)
{
    QemuProcess _qemu = null!;

    [OneTimeSetUp]
    public void Start() => _qemu = QemuProcess.Start(peer, "-object", "memory-backend-ram,id=mem0,size=64M");

    [OneTimeTearDown]
    public void Stop() => _qemu.Dispose();

    ProcessResult InNamespace(string script)
    {
        var bin = Path.GetDirectoryName(Qomfs.Binary)!;
        // On any failure the mount is taken down lazily, inside the namespace, before it goes.
        var full = $"set -u; mount --bind '{bin}' /usr/local/sbin; trap 'umount -l \"$M\" 2>/dev/null' EXIT; {script}";
        return ProcessRunner.Run("unshare", ["-m", "--propagation", "private", "bash", "-c", full], TimeSpan.FromSeconds(60),
            env: new Dictionary<string, string?> { ["M"] = TempPaths.NewDirectory("mnt"), ["S"] = _qemu.QmpSocket, ["PATH"] = "/usr/bin:/bin:/usr/sbin:/sbin" });
    }

    const string Check = """
        cat "$M/machine/type"
        grep " $M fuse.qomfs " /proc/self/mounts | cut -d' ' -f4 | cut -d, -f1
        echo x 2>/dev/null > "$M/objects/mem0/policy" && echo wrote || echo refused
        umount "$M" && echo unmounted
        grep -c " $M " /proc/self/mounts || true
        """;

    [Test]
    public void MountTypeFuseQomfsMountsReadOnlyWithFstabOptionsAndUmountUnmounts()
    {
        var r = InNamespace($"""mount -t fuse.qomfs "$S" "$M" -o ro,nofail,_netdev,x-systemd.automount,cache_ttl=0 || exit 9; {Check}""");
        Assert.That((r.ExitCode, r.StdOut, r.StdErr), Is.EqualTo((0, $"{peer.Q35MachineType}\nro\nrefused\nunmounted\n0\n", "")));
    }

    [Test]
    public void AnFstabLineMountsThroughMountFstab()
    {
        var r = InNamespace($"""
            echo "$S $M fuse.qomfs ro,nofail,x-systemd.automount,x-systemd.device-timeout=5,_netdev,noauto,defaults,timeout=2 0 0" > "$M.fstab"
            mount --fstab "$M.fstab" "$M" || exit 9; {Check}
            """);
        Assert.That((r.ExitCode, r.StdOut, r.StdErr), Is.EqualTo((0, $"{peer.Q35MachineType}\nro\nrefused\nunmounted\n0\n", "")));
    }

    [Test]
    public void MountFuse3RunDirectlyPassesFstabOptionsThatQomfsDrops()
    {
        // mount.fuse3 itself passes defaults and x-systemd.* on; libfuse would refuse them as unknown.
        var r = InNamespace($"""PATH=/usr/local/sbin:$PATH /sbin/mount.fuse3 "$S" "$M" -t fuse.qomfs -o ro,defaults,x-systemd.automount,comment=x || exit 9; {Check}""");
        Assert.That((r.ExitCode, r.StdOut, r.StdErr), Is.EqualTo((0, $"{peer.Q35MachineType}\nro\nrefused\nunmounted\n0\n", "")));
    }

    ProcessResult Complete(string words, int cword, string? socket)
    {
        var script = $"source completion/qomfs.bash; COMP_WORDS=({words}); COMP_CWORD={cword}; _qomfs; printf '%s\\n' \"${{COMPREPLY[@]}}\"";
        return ProcessRunner.Run("bash", ["-c", script], TimeSpan.FromSeconds(30), workingDirectory: Qomfs.RepoRoot,
            env: new Dictionary<string, string?> { ["PATH"] = $"{Path.GetDirectoryName(Qomfs.Binary)}:/usr/bin:/bin", ["QMP_SOCKET"] = socket });
    }

    [Test]
    public void CompletionOffersQomPathsAndPropertiesLiveFromTheSocket()
    {
        Assert.That(Complete("qom-get /objects/mem0.po", 1, _qemu.QmpSocket).StdOut, Is.EqualTo("/objects/mem0.policy\n"));
        Assert.That(Complete("qom-list /mach", 1, _qemu.QmpSocket).StdOut, Is.EqualTo("/machine/\n"));
        Assert.That(Complete("qom-get /objects/mem0 si", 2, _qemu.QmpSocket).StdOut, Is.EqualTo("size\n"));
        // -s wins over $QMP_SOCKET, also as --socket=X (which bash splits at the =).
        Assert.That(Complete($"qomfs tree --socket = {_qemu.QmpSocket} /ch", 5, "/nonexistent").StdOut, Is.EqualTo("/chardevs/\n"));
    }

    [Test]
    public void CompletionOffersCommandsAndOptionsFromTheHelpAndIsSilentOnError()
    {
        Assert.That(Complete("qomfs m", 1, null).StdOut, Is.EqualTo("mount\n"));
        Assert.That(Complete("qmp-shell --skip", 1, null).StdOut, Is.EqualTo("--skip-negotiation\n"));
        Assert.That(Complete("qemu-ga-client fsfreeze t", 2, null).StdOut, Is.EqualTo("thaw\n"));
        Assert.That(Complete("qomfs mount --l", 2, null).StdOut, Is.EqualTo("--libvirt\n"), "an option whose value is optional ([URI])");
        var r = Complete("qom-get /ma", 1, "/nonexistent.sock");
        Assert.That((r.ExitCode, r.StdOut, r.StdErr), Is.EqualTo((0, "\n", "")));
    }
}
