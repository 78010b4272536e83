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

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = new MemoryStream();
        var outTask = p.StandardOutput.BaseStream.CopyToAsync(stdout);
        var errTask = p.StandardError.ReadToEndAsync();
        try
        {
            if (stdin is not null) p.StandardInput.BaseStream.Write(stdin);
            p.StandardInput.Close();
        }
        catch (IOException) { /* the child exited without reading its input */ }

        var limit = deadline ?? TimeSpan.FromSeconds(30);
        if (!p.WaitForExit(limit))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.WaitForExit();
            Assert.Fail($"{file} {string.Join(' ', args)} did not exit within {limit.TotalSeconds:0.#} s");
        }
        p.WaitForExit();
        outTask.Wait(TimeSpan.FromSeconds(10));
        errTask.Wait(TimeSpan.FromSeconds(10));
        var bytes = stdout.ToArray();
        return new ProcessResult(p.ExitCode, Encoding.UTF8.GetString(bytes), errTask.Result, bytes);
    }

    /// <summary>Runs a shell snippet with bash -c.</summary>
    public static ProcessResult Sh(string script, TimeSpan? deadline = null, IDictionary<string, string?>? env = null)
        => Run("/bin/bash", ["-c", script], deadline, env: env);
}
