using System.Net.Sockets;
using System.Text;

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
    static readonly byte[] Marker = "\"execute\":\""u8.ToArray();
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
        var carry = new List<byte>();
        try
        {
            while (true)
            {
                var n = from.Receive(buffer);
                if (n == 0) break;
                if (count) Count(carry, buffer.AsSpan(0, n)); // before it is passed on: when the reply is back, it is counted
                var sent = 0;
                while (sent < n) sent += to.Send(buffer, sent, n - sent, SocketFlags.None);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        try { to.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    void Count(List<byte> carry, ReadOnlySpan<byte> chunk)
    {
        Interlocked.Add(ref _bytes, chunk.Length);
        carry.AddRange(chunk);
        var all = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(carry);
        var consumed = 0;
        while (true)
        {
            var at = all[consumed..].IndexOf(Marker);
            if (at < 0) { consumed = Math.Max(consumed, all.Length - Marker.Length); break; }
            var nameStart = consumed + at + Marker.Length;
            var quote = all[nameStart..].IndexOf((byte)'"');
            if (quote < 0) { consumed += at; break; }
            var name = Encoding.UTF8.GetString(all.Slice(nameStart, quote));
            lock (_gate)
            {
                _commands[name] = _commands.GetValueOrDefault(name) + 1;
                _order.Add(name);
            }
            consumed = nameStart + quote + 1;
        }
        carry.RemoveRange(0, consumed);
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
