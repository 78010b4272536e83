using System.Diagnostics;
using System.Text;

namespace QomFs.Testing;

public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr, byte[] StdOutBytes);

/// <summary>Runs a child process to completion with a deadline; a child that overruns it is killed by PID.</summary>
public static class ProcessRunner
{
    public static ProcessResult Run(string file, IEnumerable<string> args, TimeSpan? deadline = null,
        byte[]? stdin = null, IDictionary<string, string?>? env = null, string? workingDirectory = null)
    {
        using var p = Start(file, args, env, workingDirectory);
        try
        {
            if (stdin is not null) p.Process.StandardInput.BaseStream.Write(stdin);
            p.Process.StandardInput.Close();
        }
        catch (IOException) { /* the child exited without reading its input */ }
        return Finish(p, deadline ?? TimeSpan.FromSeconds(30));
    }

    /// <summary>Starts a child whose output is collected until <see cref="Finish"/>; its standard input stays open.</summary>
    public static StartedProcess Start(string file, IEnumerable<string> args, IDictionary<string, string?>? env = null,
        string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null)
            foreach (var (k, v) in env)
                if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = new MemoryStream();
        return new StartedProcess(p, $"{file} {string.Join(' ', args)}", stdout, p.StandardOutput.BaseStream.CopyToAsync(stdout),
            p.StandardError.ReadToEndAsync());
    }

    /// <summary>Waits for a child from <see cref="Start"/> to exit; one that overruns the deadline is killed and fails the test.</summary>
    public static ProcessResult Finish(StartedProcess started, TimeSpan deadline)
    {
        var p = started.Process;
        if (!p.WaitForExit(deadline))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.WaitForExit();
            Assert.Fail($"{started.CommandLine} did not exit within {deadline.TotalSeconds:0.#} s");
        }
        p.WaitForExit();
        started.StdOutCopy.Wait(TimeSpan.FromSeconds(10));
        started.StdErr.Wait(TimeSpan.FromSeconds(10));
        var bytes = started.StdOut.ToArray();
        return new ProcessResult(p.ExitCode, Encoding.UTF8.GetString(bytes), started.StdErr.Result, bytes);
    }

    /// <summary>Runs a shell snippet with bash -c.</summary>
    public static ProcessResult Sh(string script, TimeSpan? deadline = null, IDictionary<string, string?>? env = null)
        => Run("/bin/bash", ["-c", script], deadline, env: env);
}

/// <summary>A child from <see cref="ProcessRunner.Start"/>; disposing it kills it by PID if it still runs.</summary>
public sealed class StartedProcess(Process process, string commandLine, MemoryStream stdOut, Task stdOutCopy, Task<string> stdErr) : IDisposable
{
    public Process Process { get; } = process;
    public string CommandLine { get; } = commandLine;
    public int Id => Process.Id;
    public bool HasExited => Process.HasExited;
    internal MemoryStream StdOut { get; } = stdOut;
    internal Task StdOutCopy { get; } = stdOutCopy;
    internal Task<string> StdErr { get; } = stdErr;

    public void Dispose()
    {
        try { if (!Process.HasExited) Process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        Process.Dispose();
    }
}
