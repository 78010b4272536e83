using System.Text.Json;

namespace QomFs.Qmp;

/// <summary>
/// QMP over a stream socket (unix, TCP, vsock): compact requests with no id and no newline (QEMU needs neither, and
/// 7.2 pays for every byte), newline-framed messages read on the caller's thread, and optionally the opening of the
/// next request sent ahead (<see cref="SendAheadEncoder"/>).
/// </summary>
sealed class SocketTransport : IQmpTransport
{
    readonly SocketConnection _connection;
    readonly QmpAddress _address;
    readonly SendAheadEncoder? _sendAhead;

    SocketTransport(SocketConnection connection, QmpAddress address, SendAheadEncoder? sendAhead)
    {
        _connection = connection;
        _address = address;
        _sendAhead = sendAhead;
    }

    /// <exception cref="ArgumentException">a <see cref="QmpClientOptions.SendAheadArgument"/> that is no argument name.</exception>
    public static async Task<SocketTransport> ConnectAsync(QmpAddress address, QmpClientOptions options, CancellationToken cancel)
    {
        SendAheadEncoder? sendAhead;
        try { sendAhead = options.SendAheadArgument is { } name ? new SendAheadEncoder(name) : null; }
        catch (ArgumentException e) { throw new ArgumentException(e.Message, nameof(options)); }
        var connection = await SocketConnector.ConnectAsync(address, options.ConnectTimeout, options.MaxMessageBytes, cancel);
        return new SocketTransport(connection, address, sendAhead);
    }

    public bool Negotiated => false;

    public byte[] Encode(string command, Action<Utf8JsonWriter>? writeArguments) =>
        _sendAhead is null ? QmpRequest.Encode(command, writeArguments, id: null) : SendAheadEncoder.Encode(command, writeArguments);

    public void Send(byte[] request, TimeSpan timeout)
    {
        try { _connection.Send(_sendAhead is null ? request : _sendAhead.ToWire(request), RawSocket.Deadline(timeout)); }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { throw Lost(e); }
    }

    public bool Anticipate(byte[] request, TimeSpan timeout)
    {
        if (_sendAhead?.Anticipate(request) is not { Length: > 0 } ahead) return false;
        try { _connection.Send(ahead, RawSocket.Deadline(timeout)); }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { throw Lost(e); }
        return true;
    }

    public ReadOnlyMemory<byte>? Receive(TimeSpan timeout, CancellationToken cancel)
    {
        var deadline = RawSocket.Deadline(timeout);
        try
        {
            while (true)
            {
                var message = _connection.Reader.ReadMessage(deadline, cancel);
                if (message is not { } m || _sendAhead is null || !_sendAhead.IsOwnReply(m.Span)) return message;
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { throw Lost(e); }
    }

    QmpConnectionException Lost(Exception e) => new($"connection to {_address} lost: {e.Message}", e);

    public void Dispose() => _connection.Dispose();
}
