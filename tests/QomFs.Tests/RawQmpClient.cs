using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace QomFs.Tests;

/// <summary>A QMP client in a few lines over a socket, sharing nothing with the library: for the proxy's tests.</summary>
sealed class RawQmpClient : IDisposable
{
    readonly Socket _s = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    readonly StreamReader _in;
    public string Greeting { get; }

    public RawQmpClient(string path, bool negotiate = true)
    {
        _s.Connect(new UnixDomainSocketEndPoint(path));
        _s.ReceiveTimeout = 10_000;
        _in = new StreamReader(new NetworkStream(_s), Encoding.UTF8);
        Greeting = Read();
        if (negotiate) Assert.That(Ask("""{"execute": "qmp_capabilities"}"""), Is.EqualTo("""{"return": {}}"""));
    }

    public void Send(string json) => _s.Send(Encoding.UTF8.GetBytes(json + "\n"));
    public string Read() => _in.ReadLine() ?? throw new IOException("the proxy closed the connection");
    /// <summary>The next line, or null at the end of the connection.</summary>
    public string? ReadOrEnd() => _in.ReadLine();
    public string Ask(string json) { Send(json); return Read(); }
    /// <summary>The next message that is not an event.</summary>
    public string Reply() { while (true) { var l = Read(); if (!l.Contains("\"event\"")) return l; } }
    public string NextEvent() { while (true) { var l = Read(); if (l.Contains("\"event\"")) return JsonDocument.Parse(l).RootElement.GetProperty("event").GetString()!; } }
    public void Dispose() => _s.Dispose();
}
