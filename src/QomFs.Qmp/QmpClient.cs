using System.Text.Json;
using System.Text.Json.Nodes;

namespace QomFs.Qmp;

/// <summary>
/// One QMP session shared by any number of callers, with any number of commands in flight at once, over a
/// transport it does not look into (<see cref="IQmpTransport"/>; a socket unless told otherwise). Requests carry no
/// id: QEMU runs the commands of a session one after the other and answers them in that order, so the n-th reply
/// belongs to the n-th request, and an id would only cost bytes (QEMU 7.2 reads one request byte per main-loop
/// iteration). A background reader routes replies and fans events out to subscribers; it never waits for a
/// subscriber.
/// </summary>
public sealed class QmpClient : IAsyncDisposable, IDisposable
{
    readonly IQmpTransport _transport;
    readonly InFlightCommands _inFlight = new();
    readonly EventFanout _events = new();
    // Queued and sent under one lock, so that the queue's order is the order on the wire.
    readonly Lock _sendGate = new();
    // Without a reader thread: one caller at a time reads.
    readonly Lock _readGate = new();
    readonly TaskCompletionSource<Exception> _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Without a reader thread: the negotiation, until a command's caller has read its reply.
    PendingCommand? _negotiation;
    // Under _sendGate: the request the transport sent ahead, until the next one goes out.
    byte[]? _anticipated;
    long _anticipatedCommands;

    public QmpAddress Address { get; }
    public QmpClientOptions Options { get; }

    /// <summary>
    /// The server's greeting; null when negotiation was done by the transport, or skipped (until a greeting comes, if
    /// the server sends one: QEMU does, a guest agent does not).
    /// </summary>
    public QmpGreeting? Greeting { get; private set; }
    // Negotiation skipped: the first message may be a greeting all the same. Read by the one reader at a time.
    bool _greetingMayCome;

    /// <summary>Completes, with the reason, when the connection is gone.</summary>
    public Task<Exception> Disconnected => _disconnected.Task;
    public bool IsConnected => !_inFlight.Ended;

    /// <summary>Replies that came after their command was given up on (it timed out or was cancelled).</summary>
    public long StrayReplies => _inFlight.StrayReplies;

    /// <summary>Commands that went out as <see cref="Anticipate"/> had sent them ahead.</summary>
    public long AnticipatedCommands => Volatile.Read(ref _anticipatedCommands);

    QmpClient(IQmpTransport transport, QmpAddress address, QmpClientOptions options)
    {
        _transport = transport;
        Address = address;
        Options = options;
    }

    /// <summary>
    /// Connects over a socket, checks the greeting and negotiates capabilities, all within
    /// <see cref="QmpClientOptions.ConnectTimeout"/>; or, for a libvirt address, through libvirt, which has negotiated. Without a reader thread it returns once the greeting is read:
    /// the negotiation's reply is read with the first command's, which fails if the negotiation did.
    /// </summary>
    public static async Task<QmpClient> ConnectAsync(QmpAddress address, QmpClientOptions? options = null, CancellationToken cancel = default)
    {
        options ??= QmpClientOptions.Default;
        var started = Environment.TickCount64;
        IQmpTransport transport = address.Kind == QmpAddressKind.Libvirt
            ? await Libvirt.LibvirtTransport.ConnectAsync(address, options.ConnectTimeout, watch: options.ReaderThread, cancel)
            : await SocketTransport.ConnectAsync(address, options, cancel);
        return await StartAsync(transport, address, options, started, cancel);
    }

    /// <summary>
    /// Starts a session over a transport that is connected already, as <see cref="ConnectAsync(QmpAddress, QmpClientOptions?, CancellationToken)"/>
    /// does after connecting. The client owns the transport from here on, and disposes it.
    /// </summary>
    /// <param name="address">what the transport leads to, for messages.</param>
    public static Task<QmpClient> ConnectAsync(IQmpTransport transport, QmpAddress address, QmpClientOptions? options = null,
        CancellationToken cancel = default) =>
        StartAsync(transport, address, options ?? QmpClientOptions.Default, Environment.TickCount64, cancel);

    static async Task<QmpClient> StartAsync(IQmpTransport transport, QmpAddress address, QmpClientOptions options, long started,
        CancellationToken cancel)
    {
        var client = new QmpClient(transport, address, options);
        var negotiate = options.Negotiate && !transport.Negotiated;
        client._greetingMayCome = !options.Negotiate && !transport.Negotiated;
        try
        {
            if (negotiate) client.ReadGreeting(Remaining(options.ConnectTimeout, started), cancel);
            if (options.ReaderThread) client.StartReader();
            if (!negotiate) return client;
            // After the greeting, as QEMU's own clients do: sent before it, a qmp-shell restarted right after another
            // once got a second reply, to no command (once in many runs; the cause inside QEMU is not pinned down).
            var negotiation = client.Send("qmp_capabilities", null, options.ConnectTimeout);
            // Without a reader, the first command goes out behind it, and its caller reads both replies.
            if (!options.ReaderThread) client._negotiation = negotiation;
            else await client.ReplyAsync(negotiation, Remaining(options.ConnectTimeout, started), cancel);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    static TimeSpan Remaining(TimeSpan total, long startedTicks) =>
        TimeSpan.FromMilliseconds(Math.Max(1, total.TotalMilliseconds - (Environment.TickCount64 - startedTicks)));

    // Blocking, like the connect before it: a greeting is at most a few milliseconds away, and waiting here spares
    // a one-shot tool the socket engine's thread.
    void ReadGreeting(TimeSpan timeout, CancellationToken cancel)
    {
        ReadOnlyMemory<byte>? line;
        try { line = _transport.Receive(timeout, cancel); }
        catch (TimeoutException)
        {
            // A QMP socket serves one client at a time: a second client connects but is never greeted.
            throw new QmpTimeoutException($"no QMP greeting from {Address} within {timeout.TotalSeconds:0.###} s (is another client connected to it?)");
        }
        if (line is null) throw new QmpConnectionException($"{Address} closed the connection before its greeting");
        var message = QmpMessage.Parse(line.Value.Span);
        if (message.Kind != QmpMessageKind.Greeting)
            throw new QmpProtocolException($"{Address} did not greet with QMP (is it a QMP socket?)");
        Greeting = QmpGreeting.Parse(line.Value.Span[message.Value]);
    }

    /// <summary>Runs a command and returns its <c>return</c> value.</summary>
    /// <param name="writeArguments">writes the members of the <c>arguments</c> object; null for none.</param>
    /// <exception cref="QmpCommandException">the server refused the command.</exception>
    /// <exception cref="QmpTimeoutException">no reply within the timeout, or an earlier command went unanswered past
    /// its own: then every command fails at once until the server answers again. The connection stays usable.</exception>
    /// <exception cref="QmpConnectionException">the connection is gone.</exception>
    /// <exception cref="QmpProtocolException">the server broke the protocol; the connection is closed.</exception>
    public Task<QmpResult> ExecuteAsync(string command, Action<Utf8JsonWriter>? writeArguments = null,
        TimeSpan? timeout = null, CancellationToken cancel = default)
    {
        var limit = timeout ?? Options.CommandTimeout;
        PendingCommand reply;
        try { reply = Send(command, writeArguments, limit); }
        catch (Exception e) { return Task.FromException<QmpResult>(e); }
        return ReplyAsync(reply, limit, cancel);
    }

    /// <summary>Runs a command whose arguments are a JSON object, as a shell builds them.</summary>
    public Task<QmpResult> ExecuteAsync(string command, JsonObject? arguments, TimeSpan? timeout = null, CancellationToken cancel = default) =>
        ExecuteAsync(command, arguments is null ? null : w =>
        {
            foreach (var (name, value) in arguments)
            {
                w.WritePropertyName(name);
                if (value is null) w.WriteNullValue(); else value.WriteTo(w);
            }
        }, timeout, cancel);

    /// <summary>Queues a command and sends it; its reply is then awaited with <see cref="ReplyAsync"/>.</summary>
    PendingCommand Send(string command, Action<Utf8JsonWriter>? writeArguments, TimeSpan limit)
    {
        var reply = new PendingCommand(command) { WaitsForever = limit == Timeout.InfiniteTimeSpan };
        var request = _transport.Encode(command, writeArguments);
        lock (_sendGate)
        {
            _inFlight.Add(reply);
            if (_anticipated is { } ahead && ahead.AsSpan().SequenceEqual(request)) Volatile.Write(ref _anticipatedCommands, _anticipatedCommands + 1);
            _anticipated = null;
            try { _transport.Send(request, limit); }
            catch (TimeoutException)
            {
                // The request may be half sent: nothing after it could be understood any more.
                Close(new QmpConnectionException($"connection to {Address} closed: {command}: {Address} took no request within {limit.TotalSeconds:0.###} s"));
            }
            catch (QmpException e) { Close(e); }
        }
        return reply;
    }

    /// <summary>
    /// A hint that this command is likely to be the next one, from a caller that can tell (a walk of a tree): with
    /// <see cref="QmpClientOptions.SendAheadArgument"/> the socket transport sends all of it but its closing brace
    /// now, for the server to read while the caller works out whether it is wanted. The server runs nothing until
    /// <see cref="ExecuteAsync(string, Action{Utf8JsonWriter}?, TimeSpan?, CancellationToken)"/> sends the same
    /// command; any other command closes the anticipated one first into a request the server refuses. Without
    /// send-ahead, and when something else went ahead on the wire, nothing is sent. Never throws: a connection that
    /// fails here is closed, and the next command says so.
    /// </summary>
    public void Anticipate(string command, Action<Utf8JsonWriter>? writeArguments = null)
    {
        var request = _transport.Encode(command, writeArguments);
        lock (_sendGate)
        {
            if (_inFlight.Ended) return;
            try
            {
                if (_transport.Anticipate(request, Options.CommandTimeout)) _anticipated = request;
            }
            catch (TimeoutException)
            {
                Close(new QmpConnectionException($"connection to {Address} closed: {command}: {Address} took no request within {Options.CommandTimeout.TotalSeconds:0.###} s"));
            }
            catch (QmpException e) { Close(e); }
        }
    }

    async Task<QmpResult> ReplyAsync(PendingCommand reply, TimeSpan limit, CancellationToken cancel)
    {
        if (!Options.ReaderThread)
        {
            ReadOwnReply(reply, limit, cancel);
            // A negotiation that was refused fails the command that read its reply.
            if (_negotiation is { Task.IsCompleted: true } n && Interlocked.CompareExchange(ref _negotiation, null, n) == n)
                await n.Task;
        }
        // The deadline and the cancellation complete the command themselves, rather than a WaitAsync wrapper:
        // that way the awaiting continuation is the only hop between the reader thread and the caller.
        else if (limit != Timeout.InfiniteTimeSpan)
            reply.Timer = new Timer(static state =>
            {
                var (client, r, l) = ((QmpClient, PendingCommand, TimeSpan))state!;
                client.TimedOut(r, l);
            }, (this, reply, limit), limit, Timeout.InfiniteTimeSpan);
        if (cancel.CanBeCanceled && Options.ReaderThread)
            reply.Cancellation = cancel.UnsafeRegister(static (state, token) =>
            {
                var (client, r) = ((QmpClient, PendingCommand))state!;
                if (client._inFlight.Abandon(r)) r.TrySetCanceled(token);
            }, (this, reply));
        try
        {
            return await reply.Task;
        }
        finally
        {
            reply.Timer?.Dispose();
            reply.Cancellation.Dispose();
        }
    }

    /// <summary>
    /// Without a reader thread: reads on this thread, dispatching what comes as the reader would, until the reply
    /// to <paramref name="reply"/> came, the deadline passed or the connection ended.
    /// </summary>
    void ReadOwnReply(PendingCommand reply, TimeSpan limit, CancellationToken cancel)
    {
        var deadline = RawSocket.Deadline(limit);
        lock (_readGate)
        {
            try
            {
                while (!reply.Task.IsCompleted && ReadAndDispatch(RawSocket.TimeLeft(deadline), cancel)) { }
            }
            catch (TimeoutException) { TimedOut(reply, limit); }
            catch (OperationCanceledException)
            {
                if (_inFlight.Abandon(reply)) reply.TrySetCanceled(cancel);
            }
            catch (QmpException e) { Close(e); }
        }
    }

    // The commands behind it cannot be answered sooner (see InFlightCommands): they fail now, not each at its own deadline.
    void TimedOut(PendingCommand reply, TimeSpan limit)
    {
        var seconds = $"{limit.TotalSeconds:0.###} s";
        PendingCommand[] behind = [];
        var stalled = $"{Address} has not answered {reply.Command} for {seconds}";
        // Without a reader thread nobody would see the answer that ends a stall: each command waits its own deadline.
        if (!(Options.ReaderThread ? _inFlight.TimedOut(reply, stalled, out behind) : _inFlight.Abandon(reply))) return;
        // Without a reader the negotiation's reply is read with the first command's: it is the one missing if unanswered.
        var missing = _negotiation is { Task.IsCompleted: false } ? "qmp_capabilities" : reply.Command;
        reply.TrySetException(new QmpTimeoutException($"{missing}: no reply from {Address} within {seconds}"));
        foreach (var b in behind) b.TrySetException(new QmpTimeoutException($"{b.Command}: no reply: {stalled}"));
    }

    /// <summary>Starts a bounded queue of the events that arrive from now on.</summary>
    public QmpEventSubscription SubscribeEvents(int capacity = 1024) => _events.Subscribe(capacity);

    // A thread of its own that blocks in the transport's read: a reply wakes the waiting caller directly, with no
    // hop through the socket engine's thread and the thread pool first.
    void StartReader() => new Thread(ReadLoop) { IsBackground = true, Name = "qmp reader" }.Start();

    void ReadLoop()
    {
        try
        {
            while (ReadAndDispatch(Timeout.InfiniteTimeSpan, default)) { }
        }
        catch (QmpException e) { Close(e); }
    }

    /// <summary>Reads one message and routes it; false once the connection has ended.</summary>
    bool ReadAndDispatch(TimeSpan timeout, CancellationToken cancel)
    {
        var line = _transport.Receive(timeout, cancel);
        if (line is null)
        {
            Close(new QmpConnectionException($"{Address} closed the connection"));
            return false;
        }
        Dispatch(line.Value.Span);
        return true;
    }

    void Dispatch(ReadOnlySpan<byte> line)
    {
        var greetingMayCome = _greetingMayCome;
        _greetingMayCome = false;
        var message = QmpMessage.Parse(line);
        switch (message.Kind)
        {
            case QmpMessageKind.Return:
                _inFlight.TakeAnswered()?.TrySetResult(new QmpResult(line[message.Value].ToArray()));
                break;
            case QmpMessageKind.Error:
                var refused = _inFlight.TakeAnswered();
                refused?.TrySetException(new QmpCommandException(refused.Command, message.ErrorClass!, message.ErrorDesc!));
                break;
            case QmpMessageKind.Event:
                _events.Publish(message, line);
                break;
            default:
                if (greetingMayCome)
                {
                    Greeting = QmpGreeting.Parse(line[message.Value]);
                    break;
                }
                throw new QmpProtocolException(Greeting is null ? "a greeting in the middle of the session" : "a second greeting in the middle of the session");
        }
    }

    /// <summary>
    /// Ends the session, for one reason: a <see cref="QmpProtocolException"/> when the peer broke the protocol,
    /// otherwise the connection is gone. Every pending command fails with a copy of it, at once.
    /// </summary>
    void Close(QmpException reason)
    {
        if (!_inFlight.End(reason, out var pending)) return;
        _transport.Dispose();
        InFlightCommands.Fail(pending, reason);
        _events.Complete();
        _disconnected.TrySetResult(reason);
    }

    public void Dispose() => Close(new QmpConnectionException($"connection to {Address} closed by the client"));

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
