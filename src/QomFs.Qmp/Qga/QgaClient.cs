using System.Text.Json;
using System.Text.Unicode;

namespace QomFs.Qmp.Qga;

/// <summary>
/// A client of the QEMU guest agent (qemu-ga). Unlike QMP there is no greeting and no negotiation, and the agent serves
/// one client at a time and answers in order, so this client runs one command at a time. Before the first command, and
/// after any timeout, it syncs: 0xFF (which resets the agent's parser) and <c>guest-sync-delimited</c> with a random
/// id; everything up to the 0xFF that starts the reply, and every reply with another id, is stale and skipped.
/// The guest controls the agent: every reply is bounded in size and checked before use. Replies are read on the
/// caller's thread, with blocking calls under the command's deadline: no timer, no socket engine.
/// </summary>
public sealed class QgaClient : IAsyncDisposable, IDisposable
{
    /// <summary>The <see cref="QmpCommandException.ErrorClass"/> of a command the agent has disabled.</summary>
    public const string DisabledErrorClass = "CommandDisabled";
    const byte Delimiter = 0xFF;

    readonly SocketConnection _connection;
    readonly SemaphoreSlim _turn = new(1, 1);
    bool _needsSync = true;
    Exception? _closed;
    long _nextId;
    long _staleReplies;
    bool _sent;
    QgaInfo? _info;

    public QmpAddress Address { get; }
    public QgaClientOptions Options { get; }
    public bool IsConnected => _closed is null;

    /// <summary>Replies skipped as stale: left over from an earlier client or from a command that timed out.</summary>
    public long StaleReplies => Interlocked.Read(ref _staleReplies);

    QgaClient(SocketConnection connection, QmpAddress address, QgaClientOptions options)
    {
        _connection = connection;
        Address = address;
        Options = options;
    }

    MessageReader Reader => _connection.Reader;

    /// <summary>Connects and syncs, both within <see cref="QgaClientOptions.Timeout"/>.</summary>
    /// <exception cref="QmpConnectionException">cannot connect, or the agent closed the connection.</exception>
    /// <exception cref="QmpTimeoutException">no connection or no sync within the timeout.</exception>
    public static async Task<QgaClient> ConnectAsync(QmpAddress address, QgaClientOptions? options = null, CancellationToken cancel = default)
    {
        options ??= QgaClientOptions.Default;
        var deadline = RawSocket.Deadline(options.Timeout);
        var connection = await SocketConnector.ConnectAsync(address, options.Timeout, options.MaxReplyBytes, cancel);
        var client = new QgaClient(connection, address, options);
        try
        {
            await client.RunAsync("guest-sync-delimited", options.Timeout, deadline, cancel, (_, _) => 0);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Runs a command and returns its <c>return</c> value.</summary>
    /// <param name="writeArguments">writes the members of the <c>arguments</c> object; null for none.</param>
    /// <exception cref="QmpCommandException">the agent refused the command, or has disabled it (<see cref="DisabledErrorClass"/>).</exception>
    /// <exception cref="QmpTimeoutException">no reply within the timeout; the next command resyncs first.</exception>
    /// <exception cref="QmpConnectionException">the connection is gone.</exception>
    /// <exception cref="QmpProtocolException">an oversized, malformed or non-UTF-8 reply.</exception>
    public Task<QmpResult> ExecuteAsync(string command, Action<Utf8JsonWriter>? writeArguments = null,
        TimeSpan? timeout = null, CancellationToken cancel = default) =>
        WithDeadline(command, timeout, cancel, (deadline, token) =>
        {
            EnsureEnabled(command, deadline, token);
            return SendAndReceive(command, writeArguments, deadline, token);
        });

    /// <summary>
    /// Runs a command that sends no reply on success (<c>guest-shutdown</c>, <c>guest-suspend-*</c>). An error reply
    /// is a refusal; a closed connection, a timeout or the agent moving on to the next request is success.
    /// </summary>
    public async Task ExecuteNoReplyAsync(string command, Action<Utf8JsonWriter>? writeArguments = null,
        TimeSpan? timeout = null, CancellationToken cancel = default)
    {
        try
        {
            await WithDeadline(command, timeout, cancel, (deadline, token) =>
            {
                EnsureEnabled(command, deadline, token);
                SendNoReply(command, writeArguments, deadline, token);
                return 0;
            });
        }
        catch (QmpTimeoutException) when (_sent) { /* the guest is going down or to sleep: what success looks like */ }
    }

    /// <summary><c>guest-ping</c>.</summary>
    public Task<QmpResult> PingAsync(TimeSpan? timeout = null, CancellationToken cancel = default) => ExecuteAsync("guest-ping", null, timeout, cancel);

    /// <summary><c>guest-info</c>, asked once per connection.</summary>
    public Task<QgaInfo> GetInfoAsync(TimeSpan? timeout = null, CancellationToken cancel = default) =>
        WithDeadline("guest-info", timeout, cancel, GetInfo);

    QgaInfo GetInfo(long deadline, CancellationToken cancel) =>
        _info ??= QgaInfo.Parse(SendAndReceive("guest-info", null, deadline, cancel));

    // A command the agent has disabled is reported as such (DisabledErrorClass), without being sent.
    void EnsureEnabled(string command, long deadline, CancellationToken cancel)
    {
        if (!Options.CheckEnabled || command is "guest-info" or "guest-sync" or "guest-sync-delimited") return;
        var info = GetInfo(deadline, cancel);
        var entry = info.Find(command);
        if (entry is null && info.Find("guest-info") is not null)
            throw new QmpCommandException(command, "CommandNotFound", $"the guest agent does not have {command} (qemu-ga {info.Version})");
        if (entry is { Enabled: false }) throw Disabled(command);
    }

    static QmpCommandException Disabled(string command) => new(command, DisabledErrorClass, $"the guest agent has disabled {command}");

    // One command at a time, under one deadline that also covers the resync a timeout left us owing.
    Task<T> WithDeadline<T>(string command, TimeSpan? timeout, CancellationToken cancel, Func<long, CancellationToken, T> body)
    {
        var limit = timeout ?? Options.Timeout;
        return RunAsync(command, limit, RawSocket.Deadline(limit), cancel, body);
    }

    async Task<T> RunAsync<T>(string command, TimeSpan limit, long deadline, CancellationToken cancel, Func<long, CancellationToken, T> body)
    {
        if (!await _turn.WaitAsync(RawSocket.TimeLeft(deadline), cancel)) throw TimedOut(command, limit);
        try
        {
            if (_closed is not null) throw new QmpConnectionException($"the connection to the guest agent at {Address} is closed: {_closed.Message}", _closed);
            if (_needsSync) Sync(deadline, cancel);
            return body(deadline, cancel);
        }
        catch (TimeoutException)
        {
            _needsSync = true;
            throw TimedOut(command, limit);
        }
        catch (OperationCanceledException)
        {
            _needsSync = true;
            throw;
        }
        catch (QmpProtocolException e)
        {
            Close(e);
            if (e.Message.StartsWith("the guest agent", StringComparison.Ordinal)) throw;
            throw new QmpProtocolException($"{command}: the guest agent at {Address} broke the protocol: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            var lost = new QmpConnectionException($"the connection to the guest agent at {Address} was lost: {e.Message}", e);
            Close(lost);
            throw lost;
        }
        finally { _turn.Release(); }
    }

    QmpTimeoutException TimedOut(string command, TimeSpan limit) =>
        new($"{command}: no reply from the guest agent at {Address} within {limit.TotalSeconds:0.###} s");

    // QEMU's monitor greets at once, and never sends the delimiter the sync waits for: say so rather than time out.
    Inspector NotQmp => _notQmp ??= bytes =>
    {
        if (bytes.IndexOf("{\"QMP\":"u8) >= 0)
            throw new QmpProtocolException($"the guest agent address {Address} leads to a QEMU monitor (QMP), not to a guest agent");
    };
    Inspector? _notQmp;

    void Sync(long deadline, CancellationToken cancel)
    {
        var id = Random.Shared.NextInt64(1, int.MaxValue);
        _connection.Send(Encode("guest-sync-delimited", w => w.WriteNumber("id"u8, id), null, delimit: true), deadline);
        while (true)
        {
            if (!Reader.DiscardThrough(Delimiter, deadline, cancel, NotQmp)) throw ClosedBy("guest-sync-delimited");
            var line = Reader.ReadMessage(deadline, cancel) ?? throw ClosedBy("guest-sync-delimited");
            if (IsSyncReply(AfterLastDelimiter(line.Span), id)) break;
            Interlocked.Increment(ref _staleReplies);
        }
        _needsSync = false;
    }

    // The reply to our sync is {"return": ID}; anything else after a 0xFF is some earlier client's.
    static bool IsSyncReply(ReadOnlySpan<byte> line, long id)
    {
        try
        {
            var message = QmpMessage.Parse(line);
            if (message.Kind != QmpMessageKind.Return) return false;
            var r = new Utf8JsonReader(line[message.Value]);
            return r.Read() && r.TokenType == JsonTokenType.Number && r.TryGetInt64(out var n) && n == id;
        }
        catch (QmpProtocolException) { return false; }
    }

    QmpResult SendAndReceive(string command, Action<Utf8JsonWriter>? writeArguments, long deadline, CancellationToken cancel)
    {
        var id = ++_nextId;
        _connection.Send(Encode(command, writeArguments, id, delimit: false), deadline);
        while (true)
        {
            var line = Reader.ReadMessage(deadline, cancel) ?? throw ClosedBy(command);
            var json = AfterLastDelimiter(line.Span);
            if (json.IsEmpty) continue;
            if (!Utf8.IsValid(json)) throw new QmpProtocolException($"the guest agent's reply to {command} is not valid UTF-8");
            var message = QmpMessage.Parse(json);
            if (message.Kind is not (QmpMessageKind.Return or QmpMessageKind.Error) || (message.HasId && message.Id != id))
            {
                Interlocked.Increment(ref _staleReplies);
                continue;
            }
            if (message.Kind == QmpMessageKind.Error) throw Refused(command, message);
            return new QmpResult(json[message.Value].ToArray());
        }
    }

    void SendNoReply(string command, Action<Utf8JsonWriter>? writeArguments, long deadline, CancellationToken cancel)
    {
        // The command, then a sync as a marker: an error reply comes before the marker's, and the marker's reply
        // means the agent accepted the command and moved on. No 0xFF here: the agent's parser is in a clean state,
        // and a 0xFF would draw an error reply of its own.
        var id = ++_nextId;
        var marker = Random.Shared.NextInt64(1, int.MaxValue);
        _sent = false;
        _connection.Send([.. Encode(command, writeArguments, id, delimit: false),
            .. Encode("guest-sync-delimited", w => w.WriteNumber("id"u8, marker), null, delimit: false)], deadline);
        _sent = true;
        while (true)
        {
            ReadOnlyMemory<byte>? line;
            // A reset is the agent going away too.
            try { line = Reader.ReadMessage(deadline, cancel); }
            catch (IOException) { line = null; }
            if (line is null) { Close(ClosedBy(command)); return; }
            var span = line.Value.Span;
            var delimited = span.Length > 0 && span[0] == Delimiter;
            var json = AfterLastDelimiter(span);
            if (json.IsEmpty || !Utf8.IsValid(json)) continue;
            if (delimited && IsSyncReply(json, marker)) return;
            QmpMessage message;
            try { message = QmpMessage.Parse(json); }
            catch (QmpProtocolException) { continue; }
            if (message.Kind == QmpMessageKind.Error && (!message.HasId || message.Id == id)) throw Refused(command, message);
        }
    }

    static QmpCommandException Refused(string command, in QmpMessage message) =>
        message.ErrorClass == "CommandNotFound" && message.ErrorDesc!.Contains("disabled", StringComparison.Ordinal)
            ? Disabled(command)
            : new QmpCommandException(command, message.ErrorClass!, message.ErrorDesc!);

    static ReadOnlySpan<byte> AfterLastDelimiter(ReadOnlySpan<byte> line)
    {
        var at = line.LastIndexOf(Delimiter);
        return at < 0 ? line : line[(at + 1)..];
    }

    QmpConnectionException ClosedBy(string command) => new($"{command}: the guest agent at {Address} closed the connection");

    static byte[] Encode(string command, Action<Utf8JsonWriter>? writeArguments, long? id, bool delimit) =>
        QmpRequest.Encode(command, writeArguments, id, delimit ? [Delimiter] : default, "\n"u8);

    void Close(Exception reason)
    {
        if (Interlocked.CompareExchange(ref _closed, reason, null) is not null) return;
        _connection.Dispose();
    }

    public void Dispose() => Close(new QmpConnectionException("closed by the client"));

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
