using System.Diagnostics;
using QomFs.Qmp;
using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>
/// A real QEMU with the published qomfs mounted on it in the foreground (so that the test owns the daemon's PID),
/// and a second QMP connection to check what the mount did. Dispose stops both by PID and leaves no mount.
/// </summary>
public sealed class MountedQemu : IDisposable
{
    readonly Process _daemon;
    readonly Task<string> _stderr;

    public QemuProcess Qemu { get; }
    public QmpClient Check { get; }
    public string Mount { get; }
    public string LogFile { get; }
    public int DaemonPid => _daemon.Id;

    MountedQemu(QemuProcess qemu, QmpClient check, Process daemon, string mount, string log)
    {
        Qemu = qemu;
        Check = check;
        _daemon = daemon;
        _stderr = daemon.StandardError.ReadToEndAsync();
        Mount = mount;
        LogFile = log;
    }

    /// <summary>A QEMU 7.2, the distribution's own, mounted.</summary>
    public static MountedQemu Start(string options = "", params string[] qemuArgs) => Start(QemuPeer.Qemu72, options, qemuArgs);

    public static MountedQemu Start(QemuPeer peer, string options = "", params string[] qemuArgs)
    {
        Needs.Check(Needs.Fuse);
        Require.Tool("fusermount3", "the filesystem tests mount for real");
        var qemu = QemuProcess.Start(peer, qemuArgs.Length > 0 ? qemuArgs : ["-object", "memory-backend-ram,id=mem0,size=64M"]);
        var dir = TempPaths.NewDirectory("mnt");
        var mount = Path.Combine(dir, "m");
        Directory.CreateDirectory(mount);
        var log = Path.Combine(dir, "log");
        var psi = new ProcessStartInfo(Qomfs.Binary) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "mount", "-f", "-s", qemu.QmpSocket, mount, "-o", "log=" + log }) psi.ArgumentList.Add(a);
        if (options.Length > 0) { psi.ArgumentList.Add("-o"); psi.ArgumentList.Add(options); }
        var daemon = Process.Start(psi)!;
        try
        {
            Wait.Until(() => daemon.HasExited || Mounts.IsMounted(mount), TimeSpan.FromSeconds(15), "the mount to go live");
            if (daemon.HasExited) Assert.Fail($"qomfs mount exited with {daemon.ExitCode}: {daemon.StandardError.ReadToEnd()}");
            var check = QmpClient.ConnectAsync(QmpAddress.Unix(qemu.SecondSocket)).GetAwaiter().GetResult();
            return new MountedQemu(qemu, check, daemon, mount, log);
        }
        catch
        {
            if (!daemon.HasExited) daemon.Kill();
            Mounts.Unmount(mount);
            qemu.Dispose();
            throw;
        }
    }

    public string P(string relative) => Path.Combine(Mount, relative.TrimStart('/'));

    public async Task<string> Raw(string path, string property) =>
        (await Check.ExecuteAsync("qom-get", w => { w.WriteString("path", path); w.WriteString("property", property); })).ToElement().GetRawText();

    /// <summary>Sends SIGTERM to the daemon and waits for it: returns its exit code.</summary>
    public int Terminate(int signal = 15)
    {
        Posix.Kill(_daemon.Id, signal);
        return WaitForDaemonExit(TimeSpan.FromSeconds(10));
    }

    public int WaitForDaemonExit(TimeSpan deadline)
    {
        if (!_daemon.WaitForExit(deadline)) Assert.Fail($"the daemon {_daemon.Id} did not exit within {deadline.TotalSeconds} s");
        _daemon.WaitForExit();
        return _daemon.ExitCode;
    }

    public string DaemonStderr => _stderr.IsCompleted ? _stderr.Result : "";
    public string Log => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    public void Dispose()
    {
        Check.Dispose();
        if (!_daemon.HasExited)
        {
            Posix.Kill(_daemon.Id, 15);
            if (!_daemon.WaitForExit(10_000)) _daemon.Kill();
        }
        Mounts.Unmount(Mount);
        _daemon.Dispose();
        Qemu.Dispose();
    }
}
