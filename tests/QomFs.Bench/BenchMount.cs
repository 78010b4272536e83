using System.Diagnostics;
using System.Runtime.InteropServices;
using QomFs.Testing;

namespace QomFs.Bench;

/// <summary>
/// The published qomfs mounted in the foreground, so that the bench owns the daemon's PID: stopped by SIGTERM to
/// that PID (SIGKILL if it hangs), and never left mounted.
/// </summary>
sealed partial class BenchMount : IDisposable
{
    readonly Process _daemon;

    public string Path { get; }
    public int Pid => _daemon.Id;

    BenchMount(Process daemon, string path)
    {
        _daemon = daemon;
        Path = path;
    }

    public static BenchMount Start(string qomfs, string socket, string options)
    {
        var dir = TempPaths.NewDirectory("mnt");
        var mount = System.IO.Path.Combine(dir, "m");
        Directory.CreateDirectory(mount);
        var psi = new ProcessStartInfo(qomfs) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "mount", "-f", "-s", socket, mount, "-o", $"{options},log={System.IO.Path.Combine(dir, "log")}" })
            psi.ArgumentList.Add(a);
        var daemon = Process.Start(psi)!;
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
        var m = new BenchMount(daemon, mount);
        try
        {
            Wait.Until(() => daemon.HasExited || Mounts.IsMounted(mount), TimeSpan.FromSeconds(15), "the mount to go live");
            if (daemon.HasExited) throw new InvalidOperationException($"qomfs mount exited with {daemon.ExitCode}");
        }
        catch
        {
            m.Dispose();
            throw;
        }
        return m;
    }

    public string P(string qomPath) => Path + qomPath;

    /// <summary>The daemon's peak resident set (VmHWM), in bytes.</summary>
    public long PeakRss()
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return 0;
    }

    public void Dispose()
    {
        try
        {
            if (!_daemon.HasExited)
            {
                kill(_daemon.Id, 15);
                if (!_daemon.WaitForExit(10_000)) _daemon.Kill();
                _daemon.WaitForExit();
            }
        }
        catch (InvalidOperationException) { }
        Mounts.Unmount(Path);
        _daemon.Dispose();
        try { Directory.Delete(System.IO.Path.GetDirectoryName(Path)!, recursive: true); } catch (IOException) { }
    }

    [LibraryImport("libc")] private static partial int kill(int pid, int sig);
}
