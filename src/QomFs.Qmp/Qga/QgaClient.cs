using System.Net.Sockets;
using System.Text.Json;
using System.Text.Unicode;

namespace QomFs.Qmp.Qga;

/// <summary>
/// A client of the QEMU guest agent (qemu-ga). Unlike QMP there is no greeting and no negotiation, and the agent serves
/// one client at a time and answers in order, so this client runs one command at a time. Before the first command, and
/// after any timeout, it syncs: 0xFF (which resets the agent's parser) and <c>guest-sync-delimited</c> with a random
/// id; everything up to the 0xFF that starts the reply, and every reply with another id, is stale and skipped.
/// The guest controls the agent: every reply is bounded in size and checked before use.
/// </summary>
public sealed class QgaClient : IAsyncDisposable, IDisposable
{
    /// <summary>The <see cref="QmpCommandException.ErrorClass"/> of a command the agent has disabled.</summary>
    public const string DisabledErrorClass = "CommandDisabled";
    const byte Delimiter = 0xFF;

    readonly Socket _socket;
    readonly MessageReader _reader;
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

    QgaClient(Socket socket, QmpAddress address, QgaClientOptions options)
    {
        _socket = socket;
        Address = address;
        Options = options;
        _reader = new MessageReader(socket, options.MaxReplyBytes);
    }

    /// <summary>Connects and syncs, both within <see cref="QgaClientOptions.Timeout"/>.</summary>
    /// <exception cref="QmpConnectionException">cannot connect, or the agent closed the connection.</exception>
    /// <exception cref="QmpTimeoutException">no connection or no sync within the timeout.</exception>
    public static async Task<QgaClient> ConnectAsync(QmpAddress address, QgaClientOptions? options = null, CancellationToken cancel = default)
    {
        options ??= QgaClientOptions.Default;
        using var deadline = Deadline(options.Timeout, cancel);
        var socket = await SocketConnector.ConnectAsync(address, options.Timeout, cancel);
        var client = new QgaClient(socket, address, options);
        try
        {
            await client.RunAsync("guest-sync-delimited", options.Timeout, deadline, cancel, _ => Task.FromResult(0));
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Syncs now, even when already in sync.</summary>
    public Task SyncAsync(TimeSpan? timeout = null, CancellationToken cancel = default)
    {
        _needsSync = true;
        return WithDeadline("guest-sync-delimited", timeout, cancel, _ => Task.FromResult(0));
    }

    /// <summary>Runs a command and returns its <c>return</c> value.</summary>
    /// <param name="writeArguments">writes the members of the <c>arguments</c> object; null for none.</param>
    /// <exception cref="QmpCommandException">the agent refused the command, or has disabled it (<see cref="DisabledErrorClass"/>).</exception>
    /// <exception cref="QmpTimeoutException">no reply within the timeout; the next command resyncs first.</exception>
    /// <exception cref="QmpConnectionException">the connection is gone.</exception>
    /// <exception cref="QmpProtocolException">an oversized, malformed or non-UTF-8 reply.</exception>
    public Task<QmpResult> ExecuteAsync(string command, Action<Utf8JsonWriter>? writeArguments = null,
        TimeSpan? timeout = null, CancellationToken cancel = default) =>
        WithDeadline(command, timeout, cancel, async token =>
        {
            await EnsureEnabledCoreAsync(command, token);
            return await SendAndReceiveAsync(command, writeArguments, token);
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
            await WithDeadline(command, timeout, cancel, async token =>
            {
                await EnsureEnabledCoreAsync(command, token);
                await SendNoReplyAsync(command, writeArguments, token);
                return 0;
            });
        }
        catch (QmpTimeoutException) when (_sent) { /* the guest is going down or to sleep: what success looks like */ }
    }

    /// <summary><c>guest-ping</c>.</summary>
    public Task<QmpResult> PingAsync(TimeSpan? timeout = null, CancellationToken cancel = default) => ExecuteAsync("guest-ping", null, timeout, cancel);

    /// <summary><c>guest-info</c>, asked once per connection.</summary>
    public Task<QgaInfo> GetInfoAsync(TimeSpan? timeout = null, CancellationToken cancel = default) =>
        WithDeadline("guest-info", timeout, cancel, GetInfoCoreAsync);

    /// <summary>Throws a <see cref="QmpCommandException"/> of class <see cref="DisabledErrorClass"/> when guest-info says the agent disabled the command.</summary>
    public Task EnsureEnabledAsync(string command, TimeSpan? timeout = null, CancellationToken cancel = default) =>
        WithDeadline(command, timeout, cancel, async token => { await EnsureEnabledCoreAsync(command, token); return 0; });

    async Task<QgaInfo> GetInfoCoreAsync(CancellationToken token) =>
        _info ??= QgaInfo.Parse(await SendAndReceiveAsync("guest-info", null, token));

    async Task EnsureEnabledCoreAsync(string command, CancellationToken token)
    {
        if (!Options.CheckEnabled || command is "guest-info" or "guest-sync" or "guest-sync-delimited") return;
        var info = await GetInfoCoreAsync(token);
        var entry = info.Find(command);
        if (entry is null && info.Find("guest-info") is not null)
            throw new QmpCommandException(command, "CommandNotFound", $"the guest agent does not have {command} (qemu-ga {info.Version})");
        if (entry is { Enabled: false }) throw Disabled(command);
    }

    static QmpCommandException Disabled(string command) => new(command, DisabledErrorClass, $"the guest agent has disabled {command}");

    // One command at a time, under one deadline that also covers the resync a timeout left us owing.
    async Task<T> WithDeadline<T>(string command, TimeSpan? timeout, CancellationToken cancel, Func<CancellationToken, Task<T>> body)
    {
        var limit = timeout ?? Options.Timeout;
        using var deadline = Deadline(limit, cancel);
        return await RunAsync(command, limit, deadline, cancel, body);
    }

    async Task<T> RunAsync<T>(string command, TimeSpan limit, CancellationTokenSource deadline, CancellationToken cancel, Func<CancellationToken, Task<T>> body)
    {
        try { await _turn.WaitAsync(deadline.Token); }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested) { throw TimedOut(command, limit); }
        try
        {
            if (_closed is not null) throw new QmpConnectionException($"the connection to the guest agent at {Address} is closed: {_closed.Message}", _closed);
            if (_needsSync) await SyncCoreAsync(deadline.Token);
            return await body(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
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
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            var lost = new QmpConnectionException($"the connection to the guest agent at {Address} was lost: {e.Message}", e);
            Close(lost);
            throw lost;
        }
        finally { _turn.Release(); }
    }

    QmpTimeoutException TimedOut(string command, TimeSpan limit) =>
        new($"{command}: no reply from the guest agent at {Address} within {limit.TotalSeconds:0.###} s");

    async Task SyncCoreAsync(CancellationToken token)
    {
        var id = Random.Shared.NextInt64(1, int.MaxValue);
        var request = Encode("guest-sync-delimited", w => w.WriteNumber("id"u8, id), null, delimit: true);
        await SendAsync(request, token);
        while (true)
        {
            if (!await _reader.DiscardThroughAsync(Delimiter, token)) throw ClosedBy("guest-sync-delimited");
            var line = await _reader.ReadMessageAsync(token) ?? throw ClosedBy("guest-sync-delimited");
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

    async Task<QmpResult> SendAndReceiveAsync(string command, Action<Utf8JsonWriter>? writeArguments, CancellationToken token)
    {
        var id = ++_nextId;
        await SendAsync(Encode(command, writeArguments, id, delimit: false), token);
        while (true)
        {
            var line = await _reader.ReadMessageAsync(token) ?? throw ClosedBy(command);
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

    async Task SendNoReplyAsync(string command, Action<Utf8JsonWriter>? writeArguments, CancellationToken token)
    {
        // The command, then a sync as a marker: an error reply comes before the marker's, and the marker's reply
        // means the agent accepted the command and moved on. No 0xFF here: the agent's parser is in a clean state,
        // and a 0xFF would draw an error reply of its own.
        var id = ++_nextId;
        var marker = Random.Shared.NextInt64(1, int.MaxValue);
        _sent = false;
        await SendAsync([.. Encode(command, writeArguments, id, delimit: false),
            .. Encode("guest-sync-delimited", w => w.WriteNumber("id"u8, marker), null, delimit: false)], token);
        _sent = true;
        while (true)
        {
            ReadOnlyMemory<byte>? line;
            try { line = await _reader.ReadMessageAsync(token); }
            catch (SocketException) { line = null; }
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

    async Task SendAsync(byte[] request, CancellationToken token)
    {
        var sent = 0;
        while (sent < request.Length) sent += await _socket.SendAsync(request.AsMemory(sent), SocketFlags.None, token);
    }

    static byte[] Encode(string command, Action<Utf8JsonWriter>? writeArguments, long? id, bool delimit) =>
        QmpRequest.Encode(command, writeArguments, id, delimit ? [Delimiter] : default, "\n"u8);

    static CancellationTokenSource Deadline(TimeSpan limit, CancellationToken cancel)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        if (limit != Timeout.InfiniteTimeSpan) cts.CancelAfter(limit);
        return cts;
    }

    void Close(Exception reason)
    {
        if (Interlocked.CompareExchange(ref _closed, reason, null) is not null) return;
        try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        _socket.Dispose();
    }

    public void Dispose() => Close(new QmpConnectionException("closed by the client"));

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
