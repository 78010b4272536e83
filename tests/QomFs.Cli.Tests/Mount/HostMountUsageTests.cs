using QomFs.Testing;

namespace QomFs.Cli.Tests.Mount;

/// <summary>qomfs mount --libvirt / --dir given wrongly: one clear line and a non-zero exit, before anything is mounted.</summary>
[Category(Needs.Binary)]
public class HostMountUsageTests
{
    [TestCase(new[] { "--dir", "/tmp", "-s", "/tmp/x.sock", "/tmp" }, 2, "qomfs mount: give one of -s, --libvirt and --dir (see 'qomfs mount --help')")]
    [TestCase(new[] { "--libvirt", "qemu:///system", "/tmp", "extra" }, 2, "qomfs mount: expected [URI] MOUNTPOINT (see 'qomfs mount --help')")]
    [TestCase(new[] { "--dir", "/tmp", "/tmp", "extra" }, 2, "qomfs mount: expected MOUNTPOINT (see 'qomfs mount --help')")]
    [TestCase(new[] { "--dir", "/nonexistent-qomfs-dir", "-f", "/tmp" }, 1, "qomfs mount: /nonexistent-qomfs-dir is not a directory")]
    [TestCase(new[] { "--dir", "/tmp", "-f", "/tmp", "-o", "qmp_proxy=/nonexistent-qomfs-proxies" }, 1,
        "qomfs mount: qmp_proxy=/nonexistent-qomfs-proxies is not a directory: a host mount puts a socket per VM there (NAME.qmp)")]
    [TestCase(new[] { "--libvirt", "qemu+unix:///system?socket=/nonexistent-qomfs-sock", "-f", "/tmp" }, 3,
        "qomfs mount: cannot connect to libvirt at qemu+unix:///system?socket=/nonexistent-qomfs-sock: Failed to connect socket to '/nonexistent-qomfs-sock': No such file or directory")]
    public void OneLineAndAnExitCode(string[] args, int exit, string line)
    {
        var r = Qomfs.Run("qomfs", ["mount", .. args]);
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((exit, line + "\n")));
    }
}
