using System.Diagnostics;
using System.Text.RegularExpressions;
using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>`make run` (scripts/demo.sh): what it leaves behind when stopped the way a terminal stops it.</summary>
[Category(Needs.Qemu), Category(Needs.Fuse), Category(Needs.Binary)]
public partial class DemoTests
{
    [Test]
    public void CtrlCToTheWholeProcessGroupUnmountsStopsQemuAndCleansUp()
    {
        Require.Tool("qemu-system-x86_64", "the demo starts a QEMU");
        Require.Tool("fusermount3", "the demo mounts for real");
        Require.Tool("setsid", "the demo runs in a process group of its own");
        Assert.That(File.Exists(Qomfs.Binary));
        var mount = TempPaths.NewDirectory("demo");
        var psi = new ProcessStartInfo("setsid", [Path.Combine(Qomfs.RepoRoot, "scripts", "demo.sh")])
        {
            WorkingDirectory = Qomfs.RepoRoot, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.Environment["MOUNT"] = mount;
        using var demo = Process.Start(psi)!;
        var output = new System.Text.StringBuilder();
        demo.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        demo.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        demo.BeginOutputReadLine();
        demo.BeginErrorReadLine();
        string Output() { lock (output) return output.ToString(); }
        try
        {
            Wait.Until(() => Mounts.IsMounted(mount) && Output().Contains("Press Ctrl-C"), TimeSpan.FromSeconds(30), "the demo's mount");
            Assert.That(File.ReadAllText(Path.Combine(mount, "machine", "type")), Is.EqualTo("pc-q35-7.2-machine\n"));
            var qemu = int.Parse(QemuPid().Match(Output()).Groups[1].Value);
            var work = Path.GetDirectoryName(WorkSocket().Match(Output()).Groups[1].Value)!;

            // As Ctrl-C does: every process of the group at once (SIGTERM: a background job ignores SIGINT).
            Assert.That(Posix.Kill(-demo.Id, 15), Is.EqualTo(0));
            Assert.That(demo.WaitForExit(20_000), Is.True, "the demo did not end");
            demo.WaitForExit();

            Assert.That(Output(), Does.Contain($"unmounted {mount} and stopped QEMU"));
            Assert.That(Mounts.IsMounted(mount), Is.False);
            Assert.That(Posix.Kill(qemu, 0), Is.Not.EqualTo(0), "QEMU still runs");
            Assert.That(Directory.Exists(work), Is.False, $"{work} was left behind");
        }
        finally
        {
            if (!demo.HasExited) Posix.Kill(-demo.Id, 9);
            Mounts.Unmount(mount);
        }
    }

    [GeneratedRegex(@"QEMU \(pid (\d+)\)")]
    private static partial Regex QemuPid();

    [GeneratedRegex(@"QMP_SOCKET=(\S+)")]
    private static partial Regex WorkSocket();
}
