using System.Net.Sockets;
using System.Text.Json;

namespace QomFs.Testing;

/// <summary>
/// A unix-socket relay between a QMP client (the library, a qomfs daemon) and a real QEMU that records the commands
/// (by name, in order) and the request bytes the client sends; bytes pass through unchanged both ways. Why a relay
/// rather than a counter in the code under test or strace: it sees exactly what reaches QEMU, without a seam in the
/// program under test and without ptrace slowing QEMU down. The tests assert what the library asks a real QEMU; the
/// bench counts its rows (its timed runs talk to QEMU directly).
/// </summary>
public sealed class QmpRelay : IDisposable
{
    readonly Socket _listener;
    readonly string _upstream;
    readonly Lock _gate = new();
    readonly Dictionary<string, int> _commands = [];
    readonly List<string> _order = [];
    readonly List<Socket> _sockets = [];
    long _bytes;

    public string SocketPath { get; }

    /// <param name="upstreamSocket">QEMU's QMP socket.</param>
    public QmpRelay(string upstreamSocket)
    {
        _upstream = upstreamSocket;
        SocketPath = TempPaths.NewSocket("relay");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        _listener.Listen(4);
        new Thread(Accept) { IsBackground = true, Name = "proxy accept" }.Start();
    }

    void Accept()
    {
        while (true)
        {
            Socket client;
            try { client = _listener.Accept(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; }
            var server = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try { server.Connect(new UnixDomainSocketEndPoint(_upstream)); }
            catch (SocketException) { client.Dispose(); server.Dispose(); continue; }
            lock (_gate) _sockets.AddRange([client, server]);
            new Thread(() => Pump(client, server, count: true)) { IsBackground = true }.Start();
            new Thread(() => Pump(server, client, count: false)) { IsBackground = true }.Start();
        }
    }

    void Pump(Socket from, Socket to, bool count)
    {
        var buffer = new byte[64 * 1024];
        var framer = new RequestFramer();
        try
        {
            while (true)
            {
                var n = from.Receive(buffer);
                if (n == 0) break;
                if (count) Count(framer, buffer.AsSpan(0, n)); // before it is passed on: when the reply is back, it is counted
                var sent = 0;
                while (sent < n) sent += to.Send(buffer, sent, n - sent, SocketFlags.None);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        try { to.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    // Counts each request once it is whole (its top-level object closed), and only if QEMU would run it: a request
    // without "execute", or with a member QMP does not know, is refused before anything runs. Those are what a
    // client sending ahead leaves on the wire and then closes; an unfinished request is not counted at all.
    void Count(RequestFramer framer, ReadOnlySpan<byte> chunk)
    {
        Interlocked.Add(ref _bytes, chunk.Length);
        foreach (var request in framer.Add(chunk))
            if (RunnableCommand(request) is { } name)
                lock (_gate)
                {
                    _commands[name] = _commands.GetValueOrDefault(name) + 1;
                    _order.Add(name);
                }
    }

    static readonly string[] Members = ["execute", "arguments", "id", "control", "exec-oob"];

    static string? RunnableCommand(byte[] request)
    {
        try
        {
            using var doc = JsonDocument.Parse(request);
            string? name = null;
            foreach (var member in doc.RootElement.EnumerateObject())
            {
                if (!Members.Contains(member.Name)) return null;
                if (member.Name == "execute") name = member.Value.ValueKind == JsonValueKind.String ? member.Value.GetString() : null;
            }
            return name;
        }
        catch (JsonException) { return null; }
    }

    /// <summary>
    /// Splits one client's stream into its top-level JSON objects, as QEMU's JSON streamer does. Not the library's
    /// own RequestSplitter (the proxy's): the relay witnesses what the library sends, so it shares none of its code.
    /// </summary>
    sealed class RequestFramer
    {
        readonly List<byte> _current = [];
        int _depth;
        bool _inString, _escaped;

        public List<byte[]> Add(ReadOnlySpan<byte> chunk)
        {
            List<byte[]> whole = [];
            foreach (var b in chunk)
            {
                if (_depth == 0 && b != (byte)'{') continue; // whitespace between requests
                _current.Add(b);
                if (_inString)
                {
                    if (_escaped) _escaped = false;
                    else if (b == '\\') _escaped = true;
                    else if (b == '"') _inString = false;
                }
                else if (b == '"') _inString = true;
                else if (b is (byte)'{' or (byte)'[') _depth++;
                else if (b is (byte)'}' or (byte)']' && --_depth == 0)
                {
                    whole.Add([.. _current]);
                    _current.Clear();
                }
            }
            return whole;
        }
    }

    /// <summary>The names of the commands sent since the start or the last <see cref="Take"/>, in order, <c>qmp_capabilities</c> included.</summary>
    public string[] Commands { get { lock (_gate) return [.. _order]; } }

    /// <summary>The counts since the last call, and resets them.</summary>
    public (Dictionary<string, int> Commands, long Bytes) Take()
    {
        lock (_gate)
        {
            var copy = new Dictionary<string, int>(_commands);
            _commands.Clear();
            _order.Clear();
            return (copy, Interlocked.Exchange(ref _bytes, 0));
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        lock (_gate) foreach (var s in _sockets) s.Dispose();
        try { File.Delete(SocketPath); } catch (IOException) { }
    }
}
