using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Text;

namespace QomFs.Testing;

/// <summary>
/// A scripted peer on a unix socket, for what a real QEMU or guest agent will not do: broken JSON, a close in the
/// middle of a reply, silence, huge lines, stray bytes. Each accepted connection runs the script. A script that
/// fails (an assertion in it, or any exception but the client or the server going away) fails the test:
/// <see cref="Dispose"/> throws what it threw.
/// </summary>
public sealed class ScriptedServer : IDisposable
{
    readonly Socket _listener;
    readonly CancellationTokenSource _stop = new();
    readonly Task _accepting;
    readonly List<Task> _sessions = [];
    readonly List<Exception> _failures = [];

    public string SocketPath { get; }
    public int Connections;

    public ScriptedServer(Func<ScriptedConnection, Task> script)
    {
        SocketPath = TempPaths.NewSocket("fake");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        _listener.Listen(8);
        _accepting = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket s;
                try { s = await _listener.AcceptAsync(_stop.Token); }
                catch (Exception) { return; }
                Interlocked.Increment(ref Connections);
                var connection = new ScriptedConnection(s, _stop.Token);
                lock (_sessions) _sessions.Add(Task.Run(async () =>
                {
                    try { await script(connection); }
                    catch (Exception e) when (IsAnEnd(e)) { }
                    catch (Exception e) { lock (_failures) _failures.Add(e); }
                    finally { connection.Dispose(); }
                }));
            }
        });
    }

    /// <summary>The QMP greeting of a QEMU with the given version.</summary>
    public static string Greeting(int major = 7, int minor = 2, int micro = 0) =>
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": " + micro + ", \"minor\": " + minor + ", \"major\": " + major
        + "}, \"package\": \"fake\"}, \"capabilities\": [\"oob\"]}}";

    /// <summary>Greets as a QEMU of the given version and answers qmp_capabilities: the start of every scripted QMP session.</summary>
    public static async Task Handshake(ScriptedConnection c, int major = 7, int minor = 2)
    {
        await c.SendLineAsync(Greeting(major, minor));
        var negotiation = await c.ReadRequestAsync();
        await c.SendLineAsync($$"""{"return": {}, "id": {{negotiation.Id}}}""");
    }

    /// <summary>
    /// A scripted QEMU of the given version: it greets, negotiates, then answers each request with the reply that
    /// <paramref name="answer"/> gives, JSON in which <c>ID</c> stands for the request's id (null: no reply).
    /// </summary>
    public static ScriptedServer Qemu(Func<ScriptedRequest, Task<string?>> answer, int major = 7, int minor = 2) =>
        new(async c =>
        {
            await Handshake(c, major, minor);
            while (true)
            {
                var r = await c.ReadRequestAsync();
                if (await answer(r) is { } reply) await c.SendLineAsync(reply.Replace("ID", r.Id));
            }
        });

    public static ScriptedServer Qemu(Func<ScriptedRequest, string?> answer, int major = 7, int minor = 2) =>
        Qemu(r => Task.FromResult(answer(r)), major, minor);

    // How a script ends when the client closes or resets the connection, the script closed it, or the server stopped.
    static bool IsAnEnd(Exception e) =>
        e is EndOfStreamException or SocketException or ObjectDisposedException or OperationCanceledException;

    /// <summary>Stops the server and its scripts.</summary>
    /// <exception cref="Exception">what a script threw, an NUnit assertion's failure included (several: an AggregateException).</exception>
    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        Task[] sessions;
        lock (_sessions) sessions = [.. _sessions];
        Task.WaitAll([.. sessions, _accepting], TimeSpan.FromSeconds(5));
        try { File.Delete(SocketPath); } catch (IOException) { }
        Exception[] failures;
        lock (_failures) failures = [.. _failures];
        if (failures.Length == 1) ExceptionDispatchInfo.Throw(failures[0]);
        if (failures.Length > 1) throw new AggregateException("scripts failed", failures);
    }
}

public sealed record ScriptedRequest(string Json, string Execute, string? Id, System.Text.Json.JsonElement Root);

/// <summary>One client connection of a <see cref="ScriptedServer"/>.</summary>
public sealed class ScriptedConnection(Socket socket, CancellationToken stop) : IDisposable
{
    readonly List<byte> _pending = [];
    readonly byte[] _buffer = new byte[65536];

    public Task SendLineAsync(string json) => SendAsync(Encoding.UTF8.GetBytes(json + "\n"));

    /// <summary>The client's process id (SO_PEERCRED: struct ucred starts with the pid).</summary>
    public int PeerPid
    {
        get
        {
            var credentials = new byte[12];
            socket.GetRawSocketOption(1 /* SOL_SOCKET */, 17 /* SO_PEERCRED */, credentials);
            return BitConverter.ToInt32(credentials, 0);
        }
    }

    public async Task SendAsync(byte[] bytes)
    {
        var sent = 0;
        while (sent < bytes.Length) sent += await socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None, stop);
    }

    /// <summary>
    /// Reads one request. Clients send JSON objects with no delimiter (QEMU's streamer acts on the closing brace),
    /// so this finds the end of the object by counting braces outside strings. Leading 0xFF bytes and whitespace are skipped.
    /// </summary>
    public async Task<ScriptedRequest> ReadRequestAsync()
    {
        while (true)
        {
            var end = FindObjectEnd();
            if (end > 0)
            {
                var start = _pending.FindIndex(b => b == (byte)'{');
                var json = Encoding.UTF8.GetString(_pending.GetRange(start, end - start).ToArray());
                _pending.RemoveRange(0, end);
                using var doc = System.Text.Json.JsonDocument.Parse(json);
                var root = doc.RootElement.Clone();
                var execute = root.TryGetProperty("execute", out var e) ? e.GetString() ?? "" : "";
                // Echoed as QEMU does; "null" when the request had none, so that a reply template stays JSON.
                var id = root.TryGetProperty("id", out var i) ? i.GetRawText() : "null";
                return new ScriptedRequest(json, execute, id, root);
            }
            await ReceiveMoreAsync();
        }
    }

    /// <summary>Waits until <paramref name="count"/> bytes came that no request took yet, and returns them as text, leaving them unread.</summary>
    public async Task<string> PeekAsync(int count)
    {
        while (_pending.Count < count) await ReceiveMoreAsync();
        return Encoding.UTF8.GetString(_pending.GetRange(0, count).ToArray());
    }

    async Task ReceiveMoreAsync()
    {
        var n = await socket.ReceiveAsync(_buffer, SocketFlags.None, stop);
        if (n == 0) throw new EndOfStreamException("the client closed the connection");
        _pending.AddRange(_buffer.AsSpan(0, n).ToArray());
    }

    int FindObjectEnd()
    {
        int depth = 0;
        bool inString = false, escaped = false;
        for (var i = 0; i < _pending.Count; i++)
        {
            var b = _pending[i];
            if (inString)
            {
                if (escaped) escaped = false;
                else if (b == '\\') escaped = true;
                else if (b == '"') inString = false;
                continue;
            }
            if (b == '"') inString = true;
            else if (b == '{') depth++;
            else if (b == '}' && --depth == 0) return i + 1;
        }
        return -1;
    }

    /// <summary>Waits until the client closes its end, with a deadline.</summary>
    public async Task WaitForCloseAsync(TimeSpan deadline)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stop);
        cts.CancelAfter(deadline);
        try { while (await socket.ReceiveAsync(_buffer, SocketFlags.None, cts.Token) > 0) { } }
        catch (OperationCanceledException) { }
    }

    public void Close() => socket.Close();
    public void Dispose() => socket.Dispose();
}
