using System.Diagnostics;

namespace QomFs.Qmp.Qga;

/// <summary>How a guest-exec command ended, with its captured output.</summary>
public sealed record QgaExecResult(long Pid, int? ExitCode, int? Signal, byte[] StdOut, byte[] StdErr,
    bool StdOutTruncated, bool StdErrTruncated, QmpResult Status)
{
    /// <summary>The exit code a shell would report: the command's, or 128 + the signal that killed it.</summary>
    public int ShellExitCode => ExitCode ?? (Signal is int s ? 128 + s : 1);
}

/// <summary>Runs a program in the guest with guest-exec and waits for it with guest-exec-status.</summary>
public static class QgaExec
{
    /// <param name="runTimeout">how long the program may run; each RPC still has the client's own timeout.</param>
    /// <exception cref="QmpTimeoutException">the program did not exit within <paramref name="runTimeout"/>.</exception>
    public static async Task<QgaExecResult> RunAsync(this QgaClient client, string path, IReadOnlyList<string> args,
        IReadOnlyList<string>? env, byte[]? stdin, TimeSpan runTimeout, CancellationToken cancel = default)
    {
        var started = await client.ExecuteAsync("guest-exec", w =>
        {
            w.WriteString("path"u8, path);
            w.WriteStartArray("arg"u8);
            foreach (var a in args) w.WriteStringValue(a);
            w.WriteEndArray();
            if (env is { Count: > 0 })
            {
                w.WriteStartArray("env"u8);
                foreach (var e in env) w.WriteStringValue(e);
                w.WriteEndArray();
            }
            if (stdin is not null) w.WriteBase64String("input-data"u8, stdin);
            w.WriteBoolean("capture-output"u8, true);
        }, cancel: cancel);
        var pid = QgaJson.Long(QgaJson.Element(started, "guest-exec"), "pid", "guest-exec")
            ?? throw QgaJson.Malformed("guest-exec", "no 'pid'");

        var clock = Stopwatch.StartNew();
        var pause = 1;
        while (true)
        {
            var status = await client.ExecuteAsync("guest-exec-status", w => w.WriteNumber("pid"u8, pid), cancel: cancel);
            var s = QgaJson.Element(status, "guest-exec-status");
            if (QgaJson.Bool(s, "exited") == true)
            {
                return new QgaExecResult(pid, ToInt(QgaJson.Long(s, "exitcode", "guest-exec-status")),
                    ToInt(QgaJson.Long(s, "signal", "guest-exec-status")),
                    QgaJson.Base64(s, "out-data", "guest-exec-status"), QgaJson.Base64(s, "err-data", "guest-exec-status"),
                    QgaJson.Bool(s, "out-truncated") == true, QgaJson.Bool(s, "err-truncated") == true, status);
            }
            if (clock.Elapsed > runTimeout)
                throw new QmpTimeoutException($"{path} (guest pid {pid}) did not exit within {runTimeout.TotalSeconds:0.###} s; it may still be running");
            await Task.Delay(pause, cancel);
            pause = Math.Min(pause * 2, 100);
        }
    }

    static int? ToInt(long? n) => n is long v ? (int)Math.Clamp(v, int.MinValue, int.MaxValue) : null;
}
