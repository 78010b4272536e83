using System.Buffers;
using System.Net.Sockets;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace QomFs.Bench;

/// <summary>One property as qom-list gives it.</summary>
sealed record RawProperty(string Name, string Type)
{
    public bool IsChild => Type.StartsWith("child<", StringComparison.Ordinal);
    public bool IsLink => Type.StartsWith("link<", StringComparison.Ordinal);
    public bool IsFile => !IsChild && !IsLink;
}

/// <summary>What a walk of the tree found.</summary>
sealed class Walk
{
    public List<string> Objects { get; } = [];
    /// <summary>Every regular property (a file in the mount) as (object, name).</summary>
    public List<(string Path, string Name)> Files { get; } = [];
    /// <summary>The files whose value QEMU gave (only when the walk read values).</summary>
    public List<(string Path, string Name)> Readable { get; } = [];
    public Dictionary<string, int> Commands { get; } = [];
    public long RequestBytes { get; set; }
    public int Links { get; set; }
    /// <summary>Files and links that qom-list-get gave no value for (only in walks that use it).</summary>
    public int Unvalued { get; set; }
}

/// <summary>
/// The floor: a minimal QMP client, blocking, sequential, one compact request at a time and no id at all (QMP
/// answers in-band commands in order). Nothing between the socket and QEMU but the bytes QEMU must read.
/// A walk may also send each request's opening ahead, behind the request before it, as the daemon does.
/// On a QEMU with qom-list-get (10.1+) a walk sends one qom-list-get per object instead, which brings the values.
/// </summary>
sealed class RawQmp : IDisposable
{
    static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    readonly Socket _socket;
    byte[] _buffer = new byte[64 * 1024];
    int _start, _end;
    readonly ArrayBufferWriter<byte> _request = new(256);
    // What the daemon sends ahead (QmpClientOptions.SendAheadArgument = "path"), and whether it is on the wire now.
    static ReadOnlySpan<byte> Opening => "{\"arguments\":{\"path"u8;
    bool _sendAhead, _openingSent;

    public RawQmp(string socketPath)
    {
        _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        using (var greeting = JsonDocument.Parse(ReadLine()))
        {
            var v = greeting.RootElement.GetProperty("QMP").GetProperty("version").GetProperty("qemu");
            Version = $"{v.GetProperty("major").GetInt32()}.{v.GetProperty("minor").GetInt32()}.{v.GetProperty("micro").GetInt32()}";
        }
        SendRaw("{\"execute\":\"qmp_capabilities\"}"u8);
        ReadReply();
    }

    public long RequestBytes { get; private set; }

    /// <summary>QEMU's version from the greeting, e.g. 7.2.22.</summary>
    public string Version { get; }

    /// <summary>qom-list; the names and types of an object's properties.</summary>
    public List<RawProperty> List(string path)
    {
        var reply = Execute("qom-list", w => w.WriteString("path"u8, path));
        using var doc = JsonDocument.Parse(reply);
        var root = doc.RootElement;
        if (root.TryGetProperty("error", out var error)) throw new InvalidOperationException($"qom-list {path}: {error}");
        return [.. root.GetProperty("return").EnumerateArray()
            .Select(e => new RawProperty(e.GetProperty("name").GetString()!, e.GetProperty("type").GetString()!))];
    }

    /// <summary>qom-get; true when QEMU returned a value rather than an error.</summary>
    public bool Get(string path, string name)
    {
        var reply = Execute("qom-get", w =>
        {
            w.WriteString("path"u8, path);
            w.WriteString("property"u8, name);
        });
        return reply.AsSpan().IndexOf("{\"return\""u8) == 0;
    }

    /// <summary>qom-list-get of one object: its properties, each with whether QEMU gave its value.</summary>
    public List<(RawProperty Property, bool HasValue)> ListGet(string path)
    {
        var reply = Execute("qom-list-get", w =>
        {
            w.WriteStartArray("paths"u8);
            w.WriteStringValue(path);
            w.WriteEndArray();
        });
        using var doc = JsonDocument.Parse(reply);
        var root = doc.RootElement;
        if (root.TryGetProperty("error", out var error)) throw new InvalidOperationException($"qom-list-get {path}: {error}");
        return [.. root.GetProperty("return")[0].GetProperty("properties").EnumerateArray()
            .Select(e => (new RawProperty(e.GetProperty("name").GetString()!, e.GetProperty("type").GetString()!), e.TryGetProperty("value", out _)))];
    }

    // Every command begins with "path" ("paths" for qom-list-get), so the opening sent ahead fits them all.
    byte[] Execute(string command, Action<Utf8JsonWriter> arguments)
    {
        _request.ResetWrittenCount();
        using (var w = new Utf8JsonWriter(_request, Compact))
        {
            w.WriteStartObject();
            if (!_sendAhead) w.WriteString("execute"u8, command);
            w.WriteStartObject("arguments"u8);
            arguments(w);
            w.WriteEndObject();
            if (_sendAhead) w.WriteString("execute"u8, command);
            w.WriteEndObject();
        }
        if (_sendAhead) _request.Write(Opening);
        SendRaw(_request.WrittenSpan[(_openingSent ? Opening.Length : 0)..]);
        _openingSent = _sendAhead;
        return ReadReply();
    }

    /// <summary>Ends a walk that sent openings ahead: the one on the wire becomes a request QEMU refuses.</summary>
    public void CloseOpening()
    {
        _sendAhead = false;
        if (!_openingSent) return;
        _openingSent = false;
        SendRaw("\":0}}"u8);
        if (ReadReply().AsSpan().IndexOf("{\"error\""u8) != 0) throw new InvalidOperationException("QEMU took a closed opening for a command");
    }

    void SendRaw(ReadOnlySpan<byte> bytes)
    {
        RequestBytes += bytes.Length;
        while (bytes.Length > 0) bytes = bytes[_socket.Send(bytes)..];
    }

    byte[] ReadReply()
    {
        while (true)
        {
            var line = ReadLine();
            if (line.AsSpan().IndexOf("{\"event\""u8) != 0) return line; // a paused QEMU sends none, but skip any
        }
    }

    byte[] ReadLine()
    {
        while (true)
        {
            var nl = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (nl >= 0)
            {
                var line = _buffer.AsSpan(_start, nl - _start).ToArray();
                _start = nl + 1;
                if (line.Length > 0) return line;
                continue;
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
            var n = _socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
            if (n == 0) throw new IOException("QEMU closed the QMP connection");
            _end += n;
        }
    }

    /// <summary>
    /// Breadth-first walk from <paramref name="root"/>: qom-list of every object and, when <paramref name="values"/>,
    /// qom-get of every regular property right after its object's listing. Links are not followed (nor read).
    /// With <paramref name="listGet"/> each object costs one qom-list-get instead, values or not.
    /// </summary>
    /// <param name="sendAhead">send each request's opening ahead; <see cref="CloseOpening"/> afterwards.</param>
    public Walk WalkTree(string root, bool values, bool sendAhead = false, bool listGet = false)
    {
        _sendAhead = sendAhead;
        var walk = new Walk();
        var startBytes = RequestBytes;
        var queue = new Queue<string>([root]);
        while (queue.Count > 0)
        {
            var path = queue.Dequeue();
            walk.Objects.Add(path);
            List<(RawProperty Property, bool HasValue)> listing = listGet ? ListGet(path) : [.. List(path).Select(p => (p, false))];
            Count(walk, listGet ? "qom-list-get" : "qom-list");
            foreach (var (p, hasValue) in listing)
            {
                var full = path == "/" ? "/" + p.Name : path + "/" + p.Name;
                if (p.IsChild) { queue.Enqueue(full); continue; }
                if (listGet && !hasValue) walk.Unvalued++;
                if (p.IsLink) { walk.Links++; continue; }
                walk.Files.Add((path, p.Name));
                if (listGet)
                {
                    if (hasValue) walk.Readable.Add((path, p.Name));
                    continue;
                }
                if (!values) continue;
                Count(walk, "qom-get");
                if (Get(path, p.Name)) walk.Readable.Add((path, p.Name));
            }
        }
        walk.RequestBytes = RequestBytes - startBytes;
        return walk;
    }

    static void Count(Walk w, string command) => w.Commands[command] = w.Commands.GetValueOrDefault(command) + 1;

    public void Dispose() => _socket.Dispose();
}
