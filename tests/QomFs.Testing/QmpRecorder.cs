using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace QomFs.Testing;

/// <summary>
/// A relay on a socket of its own between a QMP client and a real QEMU, which records the commands the client sent:
/// what the library asks a real QEMU can be asserted without a seam in the library. Bytes pass through unchanged in
/// both directions. Stops its threads and sockets on dispose.
/// </summary>
public sealed partial class QmpRecorder : IDisposable
{
    readonly Socket _listener;
    readonly string _target;
    readonly MemoryStream _sent = new();
    readonly List<Socket> _open = [];

    public string SocketPath { get; }

    QmpRecorder(Socket listener, string path, string target)
    {
        _listener = listener;
        SocketPath = path;
        _target = target;
    }

    /// <param name="target">QEMU's QMP socket.</param>
    public static QmpRecorder Start(string target)
    {
        var path = TempPaths.NewSocket("rec");
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(4);
        var recorder = new QmpRecorder(listener, path, target);
        new Thread(recorder.AcceptAll) { IsBackground = true, Name = "qmp-recorder" }.Start();
        return recorder;
    }

    /// <summary>The names of the commands sent so far, in order, <c>qmp_capabilities</c> included.</summary>
    public string[] Commands
    {
        get
        {
            string text;
            lock (_sent) text = Encoding.UTF8.GetString(_sent.GetBuffer(), 0, (int)_sent.Length);
            return [.. Execute().Matches(text).Select(m => m.Groups[1].Value)];
        }
    }

    [GeneratedRegex("\"execute\"\\s*:\\s*\"([^\"]+)\"")]
    private static partial Regex Execute();

    void AcceptAll()
    {
        while (true)
        {
            Socket client;
            try { client = _listener.Accept(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; }
            var qemu = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try { qemu.Connect(new UnixDomainSocketEndPoint(_target)); }
            catch (SocketException) { client.Dispose(); qemu.Dispose(); continue; }
            lock (_open) _open.AddRange([client, qemu]);
            Pump(client, qemu, record: true);
            Pump(qemu, client, record: false);
        }
    }

    void Pump(Socket from, Socket to, bool record) => new Thread(() =>
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = from.Receive(buffer)) > 0)
            {
                // Recorded before it is passed on: by the time the reply is back, the command is in Commands.
                if (record) lock (_sent) _sent.Write(buffer, 0, n);
                to.Send(buffer.AsSpan(0, n));
            }
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }) { IsBackground = true, Name = "qmp-recorder-pump" }.Start();

    public void Dispose()
    {
        _listener.Dispose();
        lock (_open)
            foreach (var s in _open)
            {
                try { s.Shutdown(SocketShutdown.Both); } catch (SocketException) { }
                s.Dispose();
            }
        try { File.Delete(SocketPath); } catch (IOException) { }
    }
}
