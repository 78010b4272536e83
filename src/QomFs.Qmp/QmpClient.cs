using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace QomFs.Qmp;

/// <summary>
/// One QMP connection shared by any number of callers, with any number of commands in flight at once. Requests
/// carry no id: QEMU runs the commands of a connection one after the other and answers them in that order, so the
/// n-th reply belongs to the n-th request, and an id would only cost bytes (QEMU 7.2 reads one request byte per
/// main-loop iteration). A background reader routes replies and fans events out to subscribers; it never waits
/// for a subscriber.
/// </summary>
public sealed class QmpClient : IAsyncDisposable, IDisposable
{
    readonly SafeHandle _socket;
    // What owns the descriptor when .NET made it (TCP), disposed in its stead; null when we did.
    readonly Socket? _owner;
    readonly MessageReader _reader;
    readonly Lock _gate = new();
    readonly Lock _sendGate = new();
    // Without a reader thread: one caller at a time reads the socket.
    readonly Lock _readGate = new();
    // Commands whose reply has not come yet, in the order they were sent, including those given up on (timeout,
    // cancel): their late replies still take their turn.
    readonly Queue<PendingCommand> _inFlight = new();
    readonly TaskCompletionSource<Exception> _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    QmpEventSubscription[] _subscribers = [];
    // With QmpClientOptions.SendAheadArgument: the opening of every request, and (under _sendGate) whether the
    // next one's is on the wire already.
    readonly byte[]? _opening;
    bool _openingSent;
    // Without a reader thread: the negotiation, until a command's caller has read its reply.
    PendingCommand? _negotiation;
    Exception? _closed;
    long _strayReplies;

    public QmpAddress Address { get; }
    public QmpClientOptions Options { get; }

    /// <summary>The server's greeting; null when negotiation was skipped.</summary>
    public QmpGreeting? Greeting { get; private set; }

    /// <summary>Completes, with the reason, when the connection is gone.</summary>
    public Task<Exception> Disconnected => _disconnected.Task;
    public bool IsConnected => Volatile.Read(ref _closed) is null;

    /// <summary>Replies that came after their command was given up on (it timed out or was cancelled).</summary>
    public long StrayReplies => Interlocked.Read(ref _strayReplies);

    QmpClient(SafeHandle socket, Socket? owner, QmpAddress address, QmpClientOptions options)
    {
        _socket = socket;
        _owner = owner;
        Address = address;
        Options = options;
        _reader = new MessageReader(socket, options.MaxMessageBytes);
        if (options.SendAheadArgument is { } name) _opening = QmpRequest.Opening(name);
    }

    /// <summary>
    /// Connects, checks the greeting and negotiates capabilities, all within <see cref="QmpClientOptions.ConnectTimeout"/>.
    /// Without a reader thread it returns once the greeting is read: the negotiation's reply is read with the first
    /// command's, which fails if the negotiation did.
    /// </summary>
    public static async Task<QmpClient> ConnectAsync(QmpAddress address, QmpClientOptions? options = null, CancellationToken cancel = default)
    {
        options ??= QmpClientOptions.Default;
        if (options.SendAheadArgument is { } name && (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
            throw new ArgumentException($"SendAheadArgument must be an argument name (letters, digits, '-', '_'), not \"{name}\"", nameof(options));
        var started = Environment.TickCount64;
        var (socket, owner) = await SocketConnector.ConnectHandleAsync(address, options.ConnectTimeout, cancel);
        var client = new QmpClient(socket, owner, address, options);
        try
        {
            if (options.Negotiate) client.ReadGreeting(Remaining(options.ConnectTimeout, started), cancel);
            if (options.ReaderThread) client.StartReader();
            if (!options.Negotiate) return client;
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
        try { line = _reader.ReadMessage(timeout, cancel); }
        catch (TimeoutException)
        {
            // A QMP socket serves one client at a time: a second client connects but is never greeted.
            throw new QmpTimeoutException($"no QMP greeting from {Address} within {timeout.TotalSeconds:0.###} s (is another client connected to it?)");
        }
        catch (IOException e) { throw new QmpConnectionException($"connection to {Address} failed: {e.Message}", e); }
        if (line is null) throw new QmpConnectionException($"{Address} closed the connection before its greeting");
        var message = QmpMessage.Parse(line.Value.Span);
        if (message.Kind != QmpMessageKind.Greeting)
            throw new QmpProtocolException($"{Address} did not greet with QMP (is it a QMP socket?)");
        Greeting = QmpGreeting.Parse(line.Value.Span[message.Value]);
    }

    /// <summary>Runs a command and returns its <c>return</c> value.</summary>
    /// <param name="writeArguments">writes the members of the <c>arguments</c> object; null for none.</param>
    /// <exception cref="QmpCommandException">the server refused the command.</exception>
    /// <exception cref="QmpTimeoutException">no reply within the timeout; the connection stays usable.</exception>
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

    /// <summary>Queues a command and sends it; its reply is then awaited with <see cref="ReplyAsync"/>.</summary>
    PendingCommand Send(string command, Action<Utf8JsonWriter>? writeArguments, TimeSpan limit)
    {
        var reply = new PendingCommand(command);
        // With an opening to send ahead: the arguments first, and the next request's opening behind this one.
        var request = QmpRequest.Encode(command, writeArguments, id: null, suffix: _opening, argumentsFirst: _opening is not null);
        // Queued and sent under one lock, so that the queue's order is the order on the wire.
        lock (_sendGate)
        {
            // This request's own opening went out with the one before: the rest follows it, or if this request does
            // not begin so, that opening is closed first into a request of its own.
            var skip = 0;
            var closesOpening = false;
            if (_openingSent)
            {
                if (request.AsSpan().StartsWith(_opening)) skip = _opening!.Length;
                else (closesOpening, request) = (true, [.. QmpRequest.ClosedOpening, .. request]);
            }
            _openingSent = _opening is not null;
            lock (_gate)
            {
                if (_closed is not null) throw Gone(_closed);
                if (closesOpening) _inFlight.Enqueue(new PendingCommand("") { ClosesOpening = true });
                _inFlight.Enqueue(reply);
            }
            try { RawSocket.Send(_socket, request.AsSpan(skip), limit); }
            catch (TimeoutException)
            {
                // The request may be half sent: nothing after it could be understood any more.
                Close(new QmpTimeoutException($"{command}: {Address} took no request within {limit.TotalSeconds:0.###} s"));
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                Close(new QmpConnectionException($"connection to {Address} lost: {e.Message}", e));
            }
        }
        return reply;
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
                if (client.Abandon(r)) r.TrySetException(client.NoReply(r.Command, l));
            }, (this, reply, limit), limit, Timeout.InfiniteTimeSpan);
        if (cancel.CanBeCanceled && Options.ReaderThread)
            reply.Cancellation = cancel.UnsafeRegister(static (state, token) =>
            {
                var (client, r) = ((QmpClient, PendingCommand))state!;
                if (client.Abandon(r)) r.TrySetCanceled(token);
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
                while (!reply.Task.IsCompleted && ReadAndDispatch(Left(deadline), cancel)) { }
            }
            catch (TimeoutException)
            {
                if (Abandon(reply)) reply.TrySetException(NoReply(reply.Command, limit));
            }
            catch (OperationCanceledException)
            {
                if (Abandon(reply)) reply.TrySetCanceled(cancel);
            }
            catch (Exception e) when (Lost(e) is { } reason) { Close(reason); }
        }
    }

    static TimeSpan Left(long deadline) =>
        RawSocket.Remaining(deadline) is var ms && ms < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(ms);

    QmpTimeoutException NoReply(string command, TimeSpan limit) =>
        new($"{command}: no reply from {Address} within {limit.TotalSeconds:0.###} s");

    /// <summary>Gives up on a command: false when its reply (or the end of the connection) came first.</summary>
    bool Abandon(PendingCommand reply)
    {
        lock (_gate)
        {
            if (reply.Answered || _closed is not null) return false;
            reply.Abandoned = true;
            return true;
        }
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

    /// <summary>The blocking form, for callers on threads of their own (FUSE's worker threads).</summary>
    public QmpResult Execute(string command, Action<Utf8JsonWriter>? writeArguments = null, TimeSpan? timeout = null) =>
        ExecuteAsync(command, writeArguments, timeout).GetAwaiter().GetResult();

    /// <summary>Starts a bounded queue of the events that arrive from now on.</summary>
    public QmpEventSubscription SubscribeEvents(int capacity = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var subscription = new QmpEventSubscription(capacity, Unsubscribe);
        lock (_gate)
        {
            if (_closed is not null) subscription.Complete();
            else _subscribers = [.. _subscribers, subscription];
        }
        return subscription;
    }

    void Unsubscribe(QmpEventSubscription s)
    {
        lock (_gate) _subscribers = _subscribers.Where(x => x != s).ToArray();
    }

    // A thread of its own that blocks in poll/recv: a reply wakes the waiting caller directly, with no hop through
    // the socket engine's thread and the thread pool first.
    void StartReader() => new Thread(ReadLoop) { IsBackground = true, Name = "qmp reader" }.Start();

    void ReadLoop()
    {
        try
        {
            while (ReadAndDispatch(Timeout.InfiniteTimeSpan, default)) { }
        }
        catch (Exception e) when (Lost(e) is { } reason) { Close(reason); }
    }

    /// <summary>Reads one message and routes it; false once the connection has ended.</summary>
    bool ReadAndDispatch(TimeSpan timeout, CancellationToken cancel)
    {
        var line = _reader.ReadMessage(timeout, cancel);
        if (line is null)
        {
            Close(new QmpConnectionException($"{Address} closed the connection"));
            return false;
        }
        Dispatch(line.Value.Span);
        return true;
    }

    // What a read's failure means for the connection: the protocol broken, or the connection lost (the socket was
    // closed under the read, or failed); null for failures that are not the connection's.
    Exception? Lost(Exception e) => e switch
    {
        QmpException => e,
        IOException or SocketException or ObjectDisposedException => new QmpConnectionException($"connection to {Address} lost: {e.Message}", e),
        _ => null,
    };

    void Dispatch(ReadOnlySpan<byte> line)
    {
        var message = QmpMessage.Parse(line);
        switch (message.Kind)
        {
            case QmpMessageKind.Return:
                TakePending(message)?.TrySetResult(new QmpResult(line[message.Value].ToArray()));
                break;
            case QmpMessageKind.Error:
                var refused = TakePending(message);
                refused?.TrySetException(new QmpCommandException(refused.Command, message.ErrorClass!, message.ErrorDesc!));
                break;
            case QmpMessageKind.Event:
                Publish(message, line);
                break;
            default:
                throw new QmpProtocolException("a second greeting in the middle of the session");
        }
    }

    /// <summary>The command a reply answers: the oldest one sent. Null if it was given up on.</summary>
    /// <exception cref="QmpProtocolException">a reply when no command is waiting for one.</exception>
    PendingCommand? TakePending(in QmpMessage message)
    {
        PendingCommand reply;
        lock (_gate)
        {
            if (!_inFlight.TryDequeue(out reply!)) throw new QmpProtocolException("a reply to no command");
            reply.Answered = true;
        }
        if (reply.ClosesOpening) return null;
        if (!reply.Abandoned) return reply;
        Interlocked.Increment(ref _strayReplies);
        return null;
    }

    void Publish(in QmpMessage message, ReadOnlySpan<byte> line)
    {
        var subscribers = Volatile.Read(ref _subscribers);
        if (subscribers.Length == 0) return;
        JsonElement data = default;
        if (message.Value.End.Value > 0)
        {
            var reader = new Utf8JsonReader(line[message.Value]);
            data = JsonElement.ParseValue(ref reader);
        }
        var e = new QmpEvent(message.EventName!, data, message.Timestamp, Encoding.UTF8.GetString(line));
        foreach (var s in subscribers) s.Post(e);
    }

    void Close(Exception reason)
    {
        PendingCommand[] pending;
        QmpEventSubscription[] subscribers;
        lock (_gate)
        {
            if (_closed is not null) return;
            _closed = reason;
            pending = [.. _inFlight];
            _inFlight.Clear();
            subscribers = _subscribers;
            _subscribers = [];
        }
        try { RawSocket.Shutdown(_socket); } catch (ObjectDisposedException) { }
        if (_owner is null) _socket.Dispose(); else _owner.Dispose();
        var error = Gone(reason);
        foreach (var p in pending.Where(p => !p.ClosesOpening)) p.TrySetException(error);
        foreach (var s in subscribers) s.Complete();
        _disconnected.TrySetResult(reason);
    }

    // A protocol violation is reported as itself to the commands it broke; anything else as a lost connection.
    Exception Gone(Exception reason) => reason switch
    {
        QmpProtocolException p => new QmpProtocolException(p.Message, p),
        QmpConnectionException c => new QmpConnectionException(c.Message, c),
        _ => new QmpConnectionException($"connection to {Address} closed: {reason.Message}", reason),
    };

    sealed class PendingCommand(string command) : TaskCompletionSource<QmpResult>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public string Command { get; } = command;
        // Under _gate: whichever of the reply and the give-up comes first completes the command.
        public bool Answered { get; set; }
        public bool Abandoned { get; set; }
        // The refused request that an opening sent ahead became, when the next command did not begin with it.
        public bool ClosesOpening { get; init; }
        public Timer? Timer { get; set; }
        public CancellationTokenRegistration Cancellation { get; set; }
    }

    public void Dispose() => Close(new QmpConnectionException($"connection to {Address} closed by the client"));

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
