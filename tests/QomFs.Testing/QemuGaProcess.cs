using System.Diagnostics;

namespace QomFs.Testing;

/// <summary>
/// A real qemu-ga (of one <see cref="QemuPeer"/>) on a unix socket of its own, with its state and pid files in a temp directory. Everything that acts
/// on this machine (shutdown, suspend, freeze, set-time, passwords, ssh keys…) is always blocked; guest-exec only runs
/// when a test asks for it, for harmless fixed commands. Stopped by PID on dispose.
/// </summary>
public sealed class QemuGaProcess : IDisposable
{
    /// <summary>Blocked in every test: these would act on the host.</summary>
    public static readonly string[] AlwaysBlocked =
    [
        "guest-shutdown", "guest-suspend-disk", "guest-suspend-ram", "guest-suspend-hybrid",
        "guest-fsfreeze-freeze", "guest-fsfreeze-freeze-list", "guest-fsfreeze-thaw", "guest-fstrim",
        "guest-set-time", "guest-set-user-password", "guest-set-vcpus", "guest-set-memory-blocks",
        "guest-ssh-add-authorized-keys", "guest-ssh-remove-authorized-keys",
    ];

    readonly Process _process;

    public QemuPeer Peer { get; }
    public string Directory { get; }
    public string SocketPath { get; }
    public int Pid => _process.Id;

    QemuGaProcess(QemuPeer peer, Process process, string directory, string socket)
    {
        Peer = peer;
        _process = process;
        Directory = directory;
        SocketPath = socket;
    }

    /// <summary>A qemu-ga 7.2, the distribution's own.</summary>
    public static QemuGaProcess Start(bool allowExec = false) => Start(QemuPeer.Qemu72, allowExec);

    /// <param name="peer">whose qemu-ga.</param>
    /// <param name="allowExec">let guest-exec and guest-exec-status through, for tests that run fixed harmless commands.</param>
    public static QemuGaProcess Start(QemuPeer peer, bool allowExec = false)
    {
        Needs.Check(Needs.Agent);
        var psi = peer.QemuGaStartInfo();
        var dir = TempPaths.NewDirectory("qga");
        var socket = Path.Combine(dir, "qga.sock");
        var blocked = allowExec ? AlwaysBlocked : [.. AlwaysBlocked, "guest-exec", "guest-exec-status"];
        psi.UseShellExecute = false;
        psi.RedirectStandardError = true;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardInput = true;
        foreach (var a in new[] { "-m", "unix-listen", "-p", socket, "-t", dir, "-f", Path.Combine(dir, "qga.pid"),
                     "-b", string.Join(',', blocked) })
            psi.ArgumentList.Add(a);

        var process = Process.Start(psi)!;
        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var ga = new QemuGaProcess(peer, process, dir, socket);
        try
        {
            // The file appears at bind(), before listen(): wait until a connection is actually accepted.
            Wait.Until(() => process.HasExited || Accepts(socket), TimeSpan.FromSeconds(10), "qemu-ga's socket");
            if (process.HasExited)
            {
                process.WaitForExit();
                lock (stderr) Assert.Fail($"qemu-ga exited at start ({process.ExitCode}): {stderr}");
            }
        }
        catch
        {
            ga.Dispose();
            throw;
        }
        return ga;
    }

    static bool Accepts(string socket)
    {
        if (!File.Exists(socket)) return false;
        using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        try { probe.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(socket)); return true; }
        catch (System.Net.Sockets.SocketException) { return false; }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// Pieces of a scripted guest agent, for <see cref="ScriptedServer"/> scripts: what a real qemu-ga on this host must
/// not or cannot do (freeze, shutdown, garbage, stale replies, silence, huge or broken replies).
/// </summary>
public static class FakeGuestAgent
{
    /// <summary>The guest-info of an agent with these commands enabled (and the <paramref name="disabled"/> ones disabled).</summary>
    public static string Info(IEnumerable<string> enabled, IEnumerable<string>? disabled = null)
    {
        var entries = enabled.Select(n => (n, true)).Concat((disabled ?? []).Select(n => (n, false)))
            .Select(e => $$"""{"enabled": {{(e.Item2 ? "true" : "false")}}, "name": "{{e.n}}", "success-response": true}""");
        return """{"return": {"version": "7.2.0-fake", "supported_commands": [""" + string.Join(", ", entries) + "]}}";
    }

    /// <summary>Reads the client's guest-sync-delimited and answers it with 0xFF and the id; returns the id.</summary>
    public static async Task<long> AnswerSyncAsync(ScriptedConnection c, byte[]? before = null)
    {
        var sync = await c.ReadRequestAsync();
        Assert.That(sync.Execute, Is.EqualTo("guest-sync-delimited"), "the client must sync first");
        var id = sync.Root.GetProperty("arguments").GetProperty("id").GetInt64();
        if (before is not null) await c.SendAsync(before);
        await c.SendAsync([0xFF, .. System.Text.Encoding.UTF8.GetBytes($$"""{"return": {{id}}}""" + "\n")]);
        return id;
    }

    /// <summary>Reads guest-info and answers that the given commands are enabled.</summary>
    public static async Task AnswerInfoAsync(ScriptedConnection c, IEnumerable<string> enabled, IEnumerable<string>? disabled = null)
    {
        var info = await c.ReadRequestAsync();
        Assert.That(info.Execute, Is.EqualTo("guest-info"));
        await c.SendLineAsync(Info(enabled, disabled));
    }

    /// <summary>The usual start: a sync, then guest-info.</summary>
    public static async Task StartAsync(ScriptedConnection c, params string[] enabled)
    {
        await AnswerSyncAsync(c);
        await AnswerInfoAsync(c, enabled);
    }

    /// <summary>A successful reply to a request, with its id when it had one.</summary>
    public static string Return(ScriptedRequest request, string json) =>
        request.Id is null ? $$"""{"return": {{json}}}""" : $$"""{"return": {{json}}, "id": {{request.Id}}}""";
}
