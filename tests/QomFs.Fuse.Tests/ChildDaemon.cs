using System.Diagnostics;
using QomFs.Testing;

namespace QomFs.Fuse.Tests;

/// <summary>A child process serving <see cref="MemoryFileSystem"/> (see <see cref="Program"/>); killed by PID on Dispose.</summary>
sealed class ChildDaemon : IDisposable
{
    public Process Process { get; }

    ChildDaemon(Process process) => Process = process;

    public static ChildDaemon Start(string mountPoint)
    {
        var apphost = Path.Combine(AppContext.BaseDirectory, "QomFs.Fuse.Tests");
        ProcessStartInfo psi;
        if (File.Exists(apphost)) psi = new ProcessStartInfo(apphost);
        else
        {
            psi = new ProcessStartInfo(Require.Tool("dotnet", "running the child daemon"));
            psi.ArgumentList.Add("exec");
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "QomFs.Fuse.Tests.dll"));
        }
        psi.ArgumentList.Add("serve");
        psi.ArgumentList.Add(mountPoint);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        var child = new ChildDaemon(Process.Start(psi)!);
        var ready = child.Process.StandardOutput.ReadLineAsync();
        if (!ready.Wait(TimeSpan.FromSeconds(15)) || ready.Result != "ready")
        {
            child.Dispose();
            Assert.Fail($"child daemon did not get ready: {child.Process.StandardError.ReadToEnd()}");
        }
        return child;
    }

    public void Signal(string name) =>
        Assert.That(ProcessRunner.Run("kill", ["-" + name, Process.Id.ToString()]).ExitCode, Is.Zero, $"kill -{name}");

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            try { Process.Kill(); } catch (InvalidOperationException) { }
            Process.WaitForExit(10_000);
        }
        Process.Dispose();
    }
}
