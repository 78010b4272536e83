using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace QomFs.Qmp;

/// <summary>
/// Splits a socket's byte stream into newline-terminated messages (<c>\n</c> or <c>\r\n</c>), with a bound on the
/// size of one message so that a hostile or broken peer cannot make us buffer without limit.
/// Shared by the QMP and guest-agent clients: both protocols frame one JSON object per line.
/// </summary>
public sealed class MessageReader
{
    readonly SafeHandle _handle;
    readonly Socket? _socket;
    byte[] _buffer = new byte[64 * 1024];
    int _start, _end;

    /// <summary>A reader with the blocking <see cref="ReadMessage"/> only: no .NET <see cref="Socket"/>, so no socket engine.</summary>
    public MessageReader(SafeHandle handle, int maxMessageBytes)
    {
        _handle = handle;
        MaxMessageBytes = maxMessageBytes;
    }

    /// <summary>A reader with the asynchronous methods too.</summary>
    public MessageReader(Socket socket, int maxMessageBytes) : this(socket.SafeHandle, maxMessageBytes) => _socket = socket;

    public int MaxMessageBytes { get; }

    /// <summary>The next non-empty message without its line ending, or null at end of stream. Valid until the next call.</summary>
    /// <exception cref="QmpProtocolException">a message longer than <see cref="MaxMessageBytes"/>.</exception>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadMessageAsync(CancellationToken cancel)
    {
        while (true)
        {
            if (TryTake(out var message)) return message;
            if (!await FillAsync(cancel)) return null;
        }
    }

    /// <summary>
    /// The blocking form of <see cref="ReadMessageAsync"/>: it waits in poll(2) and reads with recv(2) on the calling
    /// thread, where the async form hops from the socket engine's thread to the pool first. A cancellable wait polls
    /// in slices short enough to notice <paramref name="cancel"/>. Null at end of stream (also once the socket is shut
    /// down); do not mix it with pending async reads.
    /// </summary>
    /// <exception cref="TimeoutException">no whole message within <paramref name="timeout"/>.</exception>
    /// <exception cref="IOException">the connection failed.</exception>
    public ReadOnlyMemory<byte>? ReadMessage(TimeSpan timeout, CancellationToken cancel = default)
    {
        var deadline = RawSocket.Deadline(timeout);
        while (true)
        {
            if (TryTake(out var message)) return message;
            while (!RawSocket.WaitReadable(_handle, Slice(deadline, cancel)))
            {
                cancel.ThrowIfCancellationRequested();
                if (Environment.TickCount64 >= deadline) throw new TimeoutException();
            }
            if (!Fill()) return null;
        }
    }

    static int Slice(long deadline, CancellationToken cancel)
    {
        var left = RawSocket.Remaining(deadline);
        return cancel.CanBeCanceled && (left < 0 || left > 100) ? 100 : left;
    }

    bool TryTake(out ReadOnlyMemory<byte> message)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline < 0)
            {
                if (_end - _start > MaxMessageBytes) throw TooLong();
                message = default;
                return false;
            }
            var length = newline - _start;
            if (length > 0 && _buffer[newline - 1] == '\r') length--;
            message = new ReadOnlyMemory<byte>(_buffer, _start, length);
            _start = newline + 1;
            if (length == 0) continue;
            if (length > MaxMessageBytes) throw TooLong();
            return true;
        }
    }

    /// <summary>
    /// Discards input up to and including the first <paramref name="marker"/> byte. The guest agent puts 0xFF before
    /// the reply to guest-sync-delimited, so that whatever a previous client left in the channel can be skipped.
    /// Returns false at end of stream.
    /// </summary>
    public async ValueTask<bool> DiscardThroughAsync(byte marker, CancellationToken cancel)
    {
        while (true)
        {
            var at = Array.IndexOf(_buffer, marker, _start, _end - _start);
            if (at >= 0) { _start = at + 1; return true; }
            _start = _end = 0;
            if (!await FillAsync(cancel)) return false;
        }
    }

    async ValueTask<bool> FillAsync(CancellationToken cancel)
    {
        MakeRoom();
        var socket = _socket ?? throw new InvalidOperationException("this reader was made for blocking reads only");
        var n = await socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancel);
        if (n == 0) return false;
        _end += n;
        return true;
    }

    bool Fill()
    {
        MakeRoom();
        var n = RawSocket.Receive(_handle, _buffer.AsSpan(_end));
        _end += n;
        return n > 0;
    }

    void MakeRoom()
    {
        if (_start > 0 && _start == _end) _start = _end = 0;
        if (_end < _buffer.Length) return;
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        else
        {
            Array.Resize(ref _buffer, (int)Math.Min((long)_buffer.Length * 2, Math.Max(MaxMessageBytes + 2L, _buffer.Length)));
            if (_end == _buffer.Length) throw TooLong();
        }
    }

    QmpProtocolException TooLong() => new($"a message exceeds the limit of {MaxMessageBytes} bytes");
}
