using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace QomFs.Qmp.Proxy;

/// <summary>
/// One client of a <see cref="QmpProxy"/>: a QMP session of its own on a connection to QEMU it shares. It is
/// greeted, negotiates with the proxy, and its commands go to QEMU in the order it sent them; each reply comes
/// back in that order with the client's own id, and every event after its negotiation comes too.
/// Bounded both ways: at most <see cref="QmpProxyOptions.MaxPendingReplies"/> unread replies (then its requests
/// wait in its socket), and a queue of events that drops the oldest when the client does not read. Neither QEMU's
/// reader nor another client ever waits for it.
/// </summary>
sealed class ProxySession(Socket socket, QmpProxyOptions options) : IDisposable
{
    // After the client's end of input, how long its last replies may take to be read before the session is dropped.
    static readonly TimeSpan Linger = TimeSpan.FromSeconds(10);

    readonly Channel<(Task<byte[]> Reply, bool StartsEvents)> _replies =
        Channel.CreateBounded<(Task<byte[]>, bool)>(new BoundedChannelOptions(options.MaxPendingReplies) { SingleReader = true, SingleWriter = true });
    readonly SemaphoreSlim _writeGate = new(1, 1);
    readonly CancellationTokenSource _closed = new();
    QmpClient _qmp = null!; // from RunAsync on
    QmpEventSubscription? _events;

    /// <summary>Events this client lost because it did not read them.</summary>
    public long DroppedEvents => _events?.Dropped ?? 0;

    /// <summary>Serves the client on <paramref name="qmp"/> until either ends.</summary>
    public async Task RunAsync(QmpClient qmp)
    {
        _qmp = qmp;
        try
        {
            await WriteAsync(ProxyReplies.Greeting(qmp.Greeting));
            var writing = WriteRepliesAsync();
            try { await ReadRequestsAsync(); }
            finally { _replies.Writer.TryComplete(); }
            _closed.CancelAfter(Linger);
            await writing;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException) { }
        finally { Dispose(); }
    }

    async Task ReadRequestsAsync()
    {
        var splitter = new RequestSplitter();
        var buffer = new byte[Math.Min(64 * 1024, options.MaxRequestBytes + 1)];
        int start = 0, scanned = 0, end = 0;
        var skipping = false; // in a request over the limit, until its end
        while (true)
        {
            var found = splitter.FindEnd(buffer.AsSpan(scanned, end - scanned));
            if (found >= 0)
            {
                var requestEnd = scanned + found;
                var request = buffer.AsMemory(start, requestEnd - start);
                start = scanned = requestEnd;
                if (skipping) { skipping = false; await QueueAsync(Task.FromResult(Refusal(ProxyRequest.TooLong()))); }
                else if (!request.Span.Trim(" \t\r\n"u8).IsEmpty) await HandleAsync(request);
                continue;
            }
            scanned = end;
            // Over the limit: the rest of it is scanned for its end, and forgotten.
            if (end - start > options.MaxRequestBytes) { skipping = true; start = end; }
            if (start == end) start = scanned = end = 0;
            if (end == buffer.Length)
            {
                if (start > 0) { Buffer.BlockCopy(buffer, start, buffer, 0, end - start); end -= start; scanned = end; start = 0; }
                else Array.Resize(ref buffer, Math.Min(buffer.Length * 2, options.MaxRequestBytes + 1));
            }
            var n = await socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None, _closed.Token);
            if (n == 0) return;
            end += n;
        }
    }

    Task HandleAsync(ReadOnlyMemory<byte> line)
    {
        var r = ProxyRequest.Parse(line.Span);
        if (r.Error is not null) return QueueAsync(Task.FromResult(Refusal(r)));
        if (r.Command == "qmp_capabilities") return Negotiate(r);
        if (_events is null)
            return QueueAsync(Task.FromResult(Refusal(ProxyRequest.Refused("Expecting capabilities negotiation with 'qmp_capabilities'", r.Id, "CommandNotFound"))));
        // The proxy reads its clients' bytes alone: descriptors passed with them never reach QEMU (see QmpProxy).
        if (r.Command is "getfd" or "add-fd")
            return QueueAsync(Task.FromResult(Refusal(ProxyRequest.Refused(
                $"{r.Command} cannot pass a file descriptor through the QomFs QMP proxy; use a QMP socket of QEMU's own", r.Id))));
        // Sent now, before the next line is read: QEMU sees this client's commands in the order it sent them.
        return QueueAsync(ForwardAsync(r));
    }

    Task Negotiate(ProxyRequest r)
    {
        if (_events is not null)
            return QueueAsync(Task.FromResult(Refusal(ProxyRequest.Refused("Capabilities negotiation is already complete, command ignored", r.Id, "CommandNotFound"))));
        if (CapabilityError(r.Arguments) is { } error) return QueueAsync(Task.FromResult(Refusal(ProxyRequest.Refused(error, r.Id))));
        // From here on every event is queued for the client; they go out once it has read this reply, as from QEMU.
        _events = _qmp.SubscribeEvents(options.EventQueue);
        return QueueAsync(Task.FromResult(ProxyReplies.Return("{}"u8, r.Id)), startsEvents: true);
    }

    // QEMU's own words; "oob" is a capability QEMU offers but the proxy does not.
    static string? CapabilityError(JsonElement arguments)
    {
        if (arguments.ValueKind != JsonValueKind.Object) return null;
        foreach (var member in arguments.EnumerateObject())
        {
            if (!member.NameEquals("enable")) return $"Parameter '{member.Name}' is unexpected";
            if (member.Value.ValueKind != JsonValueKind.Array) return "Invalid parameter type for 'enable', expected: array";
            foreach (var c in member.Value.EnumerateArray())
            {
                if (c.ValueKind != JsonValueKind.String) return "Invalid parameter type for 'enable[0]', expected: string";
                var name = c.GetString();
                return name == "oob" ? "Capability oob not available" : $"Parameter 'null' does not accept value '{name}'";
            }
        }
        return null;
    }

    async Task<byte[]> ForwardAsync(ProxyRequest r)
    {
        var arguments = r.Arguments;
        Action<Utf8JsonWriter>? write = arguments.ValueKind == JsonValueKind.Object
            ? w => { foreach (var p in arguments.EnumerateObject()) p.WriteTo(w); }
            : null;
        try
        {
            // As long as QEMU takes, as on its own socket: a client's slow command (a memory dump, savevm) is no
            // timeout of ours. The commands behind it wait for QEMU as they would there; one of the mount's that
            // times out meanwhile fails only the commands with a deadline sent after itself, never this one.
            var result = await _qmp.ExecuteAsync(r.Command!, write, Timeout.InfiniteTimeSpan);
            options.CommandCompleted?.Invoke(r.Command!, arguments);
            return ProxyReplies.Return(result.Json.Span, r.Id);
        }
        catch (QmpCommandException e) { return ProxyReplies.Error(e.ErrorClass, e.Description, r.Id); }
        // No answer in time, or QEMU gone: QMP has no class for either, so GenericError with the proxy's reason.
        catch (QmpException e) { return ProxyReplies.Error("GenericError", e.Message, r.Id); }
    }

    static byte[] Refusal(ProxyRequest r) => ProxyReplies.Error(r.ErrorClass, r.Error!, r.Id);

    async Task QueueAsync(Task<byte[]> reply, bool startsEvents = false) =>
        await _replies.Writer.WriteAsync((reply, startsEvents), _closed.Token);

    async Task WriteRepliesAsync()
    {
        try
        {
            await foreach (var (reply, startsEvents) in _replies.Reader.ReadAllAsync(_closed.Token))
            {
                await WriteAsync(await reply);
                if (startsEvents) _ = ForwardEventsAsync(_events!);
            }
        }
        catch
        {
            // The client is gone: the reader may be waiting for room among the replies, which will never come.
            Dispose();
            throw;
        }
    }

    async Task ForwardEventsAsync(QmpEventSubscription events)
    {
        try
        {
            await foreach (var e in events.Reader.ReadAllAsync(_closed.Token))
                await WriteAsync(Encoding.UTF8.GetBytes(e.Json + "\r\n"));
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException) { }
        // QEMU is gone (its events ended) or the client is: either way the session is over.
        finally { Dispose(); }
    }

    async Task WriteAsync(byte[] message)
    {
        await _writeGate.WaitAsync(_closed.Token);
        try
        {
            for (var sent = 0; sent < message.Length;)
                sent += await socket.SendAsync(message.AsMemory(sent), SocketFlags.None, _closed.Token);
        }
        finally { _writeGate.Release(); }
    }

    public void Dispose()
    {
        try { _closed.Cancel(); } catch (ObjectDisposedException) { }
        _events?.Dispose();
        socket.Dispose();
    }
}
