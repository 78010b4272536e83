using System.Diagnostics;
using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>
/// The published qomfs mounted in the foreground with the given source arguments (so the test owns the daemon's PID);
/// dispose stops it by PID and leaves no mount.
/// </summary>
public sealed class ForegroundMount : IDisposable
{
    readonly Process _daemon;

    public string Mount { get; }
    public string LogFile { get; }

    ForegroundMount(Process daemon, string mount, string log)
    {
        _daemon = daemon;
        Mount = mount;
        LogFile = log;
    }

    /// <param name="source">what to mount: <c>-s ADDR</c>, <c>--libvirt URI</c> or <c>--dir DIR</c>.</param>
    public static ForegroundMount Start(params string[] source)
    {
        Needs.Check(Needs.Fuse);
        Require.Tool("fusermount3", "the filesystem tests mount for real");
        var dir = TempPaths.NewDirectory("mnt");
        var mount = Path.Combine(dir, "m");
        Directory.CreateDirectory(mount);
        var log = Path.Combine(dir, "log");
        var psi = new ProcessStartInfo(Qomfs.Binary) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in (string[])["mount", "-f", .. source, mount, "-o", "log=" + log]) psi.ArgumentList.Add(a);
        var daemon = Process.Start(psi)!;
        Wait.Until(() => daemon.HasExited || Mounts.IsMounted(mount), TimeSpan.FromSeconds(15), "the mount to go live");
        if (daemon.HasExited) Assert.Fail($"qomfs mount exited with {daemon.ExitCode}: {daemon.StandardError.ReadToEnd()}");
        return new ForegroundMount(daemon, mount, log);
    }

    public string P(string relative) => Path.Combine(Mount, relative.TrimStart('/'));

    public bool HasExited => _daemon.HasExited;

    public int WaitForDaemonExit(TimeSpan deadline)
    {
        if (!_daemon.WaitForExit(deadline)) Assert.Fail($"the daemon {_daemon.Id} did not exit within {deadline.TotalSeconds} s");
        return _daemon.ExitCode;
    }

    public string Log => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    public void Dispose()
    {
        if (!_daemon.HasExited)
        {
            Posix.Kill(_daemon.Id, 15);
            if (!_daemon.WaitForExit(10_000)) _daemon.Kill();
        }
        Mounts.Unmount(Mount);
        _daemon.Dispose();
        try { Directory.Delete(Path.GetDirectoryName(Mount)!, recursive: true); } catch (IOException) { }
    }
}
