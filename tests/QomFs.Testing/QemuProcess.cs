using System.Diagnostics;

namespace QomFs.Testing;

/// <summary>
/// A throw-away paused QEMU (of one <see cref="QemuPeer"/>) with two QMP sockets: one for the code under test, one for the test to check from
/// outside (a QMP socket serves one client at a time). Stopped by PID on dispose.
/// </summary>
public sealed class QemuProcess : IDisposable
{
    readonly Process _process;
    readonly string _directory;

    public QemuPeer Peer { get; }
    public string QmpSocket { get; }
    public string SecondSocket { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    QemuProcess(QemuPeer peer, Process process, string directory, string qmp, string second)
    {
        Peer = peer;
        _process = process;
        _directory = directory;
        QmpSocket = qmp;
        SecondSocket = second;
    }

    /// <summary>A QEMU 7.2, the distribution's own.</summary>
    public static QemuProcess Start(params string[] extraArgs) => Start(QemuPeer.Qemu72, extraArgs);

    /// <param name="peer">which QEMU.</param>
    /// <param name="extraArgs">more QEMU arguments, e.g. <c>-object memory-backend-ram,id=mem0,size=64M</c>.</param>
    public static QemuProcess Start(QemuPeer peer, params string[] extraArgs)
    {
        Needs.Check(Needs.Qemu);
        var psi = peer.QemuStartInfo();
        var dir = TempPaths.NewDirectory("qemu");
        var qmp = Path.Combine(dir, "qmp.sock");
        var second = Path.Combine(dir, "check.sock");
        psi.UseShellExecute = false;
        psi.RedirectStandardError = true;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardInput = true;
        foreach (var a in new[] { "-M", "q35", "-nodefaults", "-display", "none", "-S",
                     "-qmp", $"unix:{qmp},server=on,wait=off", "-qmp", $"unix:{second},server=on,wait=off" })
            psi.ArgumentList.Add(a);
        foreach (var a in extraArgs) psi.ArgumentList.Add(a);

        var process = Process.Start(psi)!;
        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var q = new QemuProcess(peer, process, dir, qmp, second);
        try
        {
            // Listening, not just made: between QEMU's bind and its listen a connect is refused.
            Wait.Until(() => process.HasExited || (Listening(qmp) && Listening(second)), TimeSpan.FromSeconds(20), "QEMU's QMP sockets");
            if (process.HasExited)
            {
                process.WaitForExit();
                lock (stderr) Assert.Fail($"QEMU exited at start ({process.ExitCode}): {stderr}");
            }
        }
        catch
        {
            q.Dispose();
            throw;
        }
        return q;
    }

    /// <summary>Sends a signal to this QEMU (by PID): SIGSTOP, SIGCONT, SIGKILL.</summary>
    // Whether a unix socket at path listens, from /proc/net/unix (its flags hold __SO_ACCEPTCON): asking by
    // connecting would take the QMP monitor's one client.
    static bool Listening(string path) =>
        File.Exists(path) && File.ReadLines("/proc/net/unix").Skip(1).Any(line =>
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length >= 8 && fields[7] == path && (Convert.ToUInt32(fields[3], 16) & 0x10000) != 0;
        });

    public void Signal(int signal) => kill(_process.Id, signal);

    public void WaitForExit(TimeSpan deadline)
    {
        if (!_process.WaitForExit(deadline)) Assert.Fail($"QEMU {Pid} did not exit within {deadline.TotalSeconds} s");
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                kill(_process.Id, 18); // SIGCONT, in case a test stopped it
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int kill(int pid, int sig);
}
