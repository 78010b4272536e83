using System.Diagnostics;
using System.Text;

namespace QomFs.Testing;

/// <summary>
/// QEMU's own qmp-shell (Debian unstable's python3-qemu-qmp in the modern root, see scripts/install-modern-qemu.sh),
/// driven through a pipe one command at a time, as a user types them. Stopped by PID on dispose.
/// </summary>
/// <remarks>
/// It runs on this host through the root's loader and Python, like the root's QEMU (<see cref="QemuPeer"/>), rather than
/// with chroot: so the socket it is given is a path of this host, a mount's <c>.qmp.sock</c> link included, which a
/// chroot would not see without a bind mount of the mount and of the proxy's runtime directory; and its PID is the
/// shell's own. PYTHONHOME points Python at the root's standard library (Debian's site.py then adds the root's
/// dist-packages, named again in PYTHONPATH so that no host setting can shadow it).
/// </remarks>
public sealed class UpstreamQmpShell : IDisposable
{
    const string Prompt = "(QEMU) ";

    readonly Process _process;
    readonly StringBuilder _output = new();
    readonly Task _reading;
    readonly Task<string> _stderr;
    int _consumed;

    /// <summary>What it printed before its first prompt: its banner, with QEMU's version.</summary>
    public string Banner { get; }

    public int Pid => _process.Id;

    UpstreamQmpShell(Process process)
    {
        _process = process;
        _reading = Task.Run(ReadOutput);
        _stderr = process.StandardError.ReadToEndAsync();
        Banner = NextPrompt(TimeSpan.FromSeconds(20), "qmp-shell's first prompt");
    }

    /// <summary>Connects to <paramref name="socket"/>; a missing root or package skips or, under CI, fails.</summary>
    public static UpstreamQmpShell Start(string socket)
    {
        var (loader, args, env) = Command(socket);
        var psi = new ProcessStartInfo(loader)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env)
            if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        return new UpstreamQmpShell(Process.Start(psi)!);
    }

    /// <summary>Runs it to its end on <paramref name="input"/>: for a shell that is expected not to get as far as a prompt.</summary>
    public static ProcessResult Run(string socket, string input, TimeSpan deadline)
    {
        var (loader, args, env) = Command(socket);
        return ProcessRunner.Run(loader, args, deadline, Encoding.UTF8.GetBytes(input), env);
    }

    static (string Loader, string[] Args, Dictionary<string, string?> Env) Command(string socket)
    {
        var root = QemuPeer.ModernRoot;
        var loader = Path.Combine(root, "lib64/ld-linux-x86-64.so.2");
        var script = Path.Combine(root, "usr/bin/qmp-shell");
        const string why = "the proxy tests drive upstream's qmp-shell; run scripts/install-modern-qemu.sh as root";
        Require.File(loader, why);
        Require.File(script, why);
        string[] args = ["--library-path", $"{root}/usr/lib/x86_64-linux-gnu:{root}/lib/x86_64-linux-gnu",
            Path.Combine(root, "usr/bin/python3"), script, socket];
        // None of this host's Python settings: only the root's.
        var env = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("PYTHON", StringComparison.Ordinal)).ToDictionary(k => k, _ => (string?)null);
        env["PYTHONHOME"] = Path.Combine(root, "usr");
        env["PYTHONPATH"] = Path.Combine(root, "usr/lib/python3/dist-packages");
        env["PYTHONNOUSERSITE"] = "1";
        env["PYTHONUNBUFFERED"] = "1";
        return (loader, args, env);
    }

    /// <summary>
    /// Types one line and returns what the shell printed for it, up to its next prompt: a command's reply as JSON, or
    /// for an empty line the events it has received, one Python dict a line.
    /// </summary>
    public string Type(string line, TimeSpan? deadline = null)
    {
        _process.StandardInput.Write(line + "\n");
        _process.StandardInput.Flush();
        return NextPrompt(deadline ?? TimeSpan.FromSeconds(10), $"qmp-shell's answer to '{line}'");
    }

    /// <summary>Closes its input (end of file, as a user's ^D) and waits for it to exit: its exit code.</summary>
    public int Quit(TimeSpan deadline)
    {
        _process.StandardInput.Close();
        if (!_process.WaitForExit(deadline)) Assert.Fail($"qmp-shell did not exit within {deadline.TotalSeconds} s of its end of input");
        return _process.ExitCode;
    }

    public string StdErr => _stderr.IsCompleted ? _stderr.Result : "";

    string NextPrompt(TimeSpan deadline, string what)
    {
        var text = "";
        Wait.Until(() =>
        {
            lock (_output)
            {
                var s = _output.ToString(_consumed, _output.Length - _consumed);
                var end = s.IndexOf(Prompt, StringComparison.Ordinal);
                if (end < 0)
                {
                    if (_process.HasExited && _reading.IsCompleted)
                        Assert.Fail($"qmp-shell exited with {_process.ExitCode} before {what}: {s}{StdErr}");
                    return false;
                }
                text = s[..end];
                _consumed += end + Prompt.Length;
                return true;
            }
        }, deadline, what);
        return text.Trim();
    }

    async Task ReadOutput()
    {
        var buffer = new char[4096];
        int n;
        while ((n = await _process.StandardOutput.ReadAsync(buffer)) > 0)
            lock (_output) _output.Append(buffer, 0, n);
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(); }
        catch (InvalidOperationException) { }
        _process.WaitForExit(5000);
        _process.Dispose();
    }
}
