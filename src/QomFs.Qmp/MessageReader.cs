using System.Runtime.InteropServices;

namespace QomFs.Qmp;

/// <summary>Looks at bytes about to be discarded (and may throw to refuse them).</summary>
delegate void Inspector(ReadOnlySpan<byte> bytes);

/// <summary>
/// Splits a socket's byte stream into newline-terminated messages (<c>\n</c> or <c>\r\n</c>), with a bound on the
/// size of one message so that a hostile or broken peer cannot make us buffer without limit.
/// Shared by the QMP and guest-agent clients: both protocols frame one JSON object per line. It reads with poll(2)
/// and recv(2) on the calling thread (<see cref="RawSocket"/>): no socket engine, no hop through the thread pool.
/// </summary>
sealed class MessageReader(SafeHandle handle, int maxMessageBytes)
{
    byte[] _buffer = new byte[64 * 1024];
    int _start, _end;

    public int MaxMessageBytes { get; } = maxMessageBytes;

    /// <summary>
    /// The next non-empty message without its line ending, or null at end of stream (also once the socket is shut
    /// down). Valid until the next call. A cancellable wait polls in slices short enough to notice
    /// <paramref name="cancel"/>.
    /// </summary>
    /// <param name="deadline">a <see cref="RawSocket.Deadline"/>.</param>
    /// <exception cref="TimeoutException">no whole message by the deadline.</exception>
    /// <exception cref="IOException">the connection failed.</exception>
    /// <exception cref="QmpProtocolException">a message longer than <see cref="MaxMessageBytes"/>.</exception>
    public ReadOnlyMemory<byte>? ReadMessage(long deadline, CancellationToken cancel = default)
    {
        while (true)
        {
            if (TryTake(out var message)) return message;
            if (!Fill(deadline, cancel)) return null;
        }
    }

    /// <summary>
    /// Discards input up to and including the first <paramref name="marker"/> byte. The guest agent puts 0xFF before
    /// the reply to guest-sync-delimited, so that whatever a previous client left in the channel can be skipped.
    /// Returns false at end of stream.
    /// </summary>
    public bool DiscardThrough(byte marker, long deadline, CancellationToken cancel = default, Inspector? inspect = null)
    {
        while (true)
        {
            var at = Array.IndexOf(_buffer, marker, _start, _end - _start);
            inspect?.Invoke(_buffer.AsSpan(_start, (at >= 0 ? at : _end) - _start));
            if (at >= 0) { _start = at + 1; return true; }
            _start = _end = 0;
            if (!Fill(deadline, cancel)) return false;
        }
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

    // Waits until the socket is readable, then one recv: false at end of stream.
    bool Fill(long deadline, CancellationToken cancel)
    {
        while (!RawSocket.WaitReadable(handle, Slice(deadline, cancel)))
        {
            cancel.ThrowIfCancellationRequested();
            if (Environment.TickCount64 >= deadline) throw new TimeoutException();
        }
        MakeRoom();
        var n = RawSocket.Receive(handle, _buffer.AsSpan(_end));
        _end += n;
        return n > 0;
    }

    static int Slice(long deadline, CancellationToken cancel)
    {
        var left = RawSocket.Remaining(deadline);
        return cancel.CanBeCanceled && (left < 0 || left > 100) ? 100 : left;
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
