using System.Text;
using QomFs.Fuse;
using QomFs.Qmp;

namespace QomFs;

/// <summary>
/// One open <c>.events</c>: the greeting QEMU gave the mount's connection, then its events from the open
/// onward, one JSON line each. A read at the end waits for the next event, like a pipe, and ends with EINTR if its
/// caller gets a signal. Bounded by the subscription: a reader that falls behind loses the oldest events, and reads
/// a line that counts them, <c>{"dropped": N}</c>, where they were. The end of the connection is its end of file.
/// </summary>
/// <remarks>
/// What was read stays readable at its offsets (the last <see cref="Kept"/> bytes of it), and the size is where
/// the lines come to, counting one ready to be read, so that a follower which seeks and polls the size, as
/// `tail -f` does, sees a file that grows. (The greeting gives that size its start: `tail` reads a file that is
/// empty when it opens it as a pipe, to its end.)
/// </remarks>
sealed class EventStream : IDisposable
{
    const int Kept = 64 * 1024;

    readonly QmpEventSubscription _events;
    readonly object _gate = new();
    // The lines from offset _start on, _length bytes of them; past Kept bytes, the older half goes.
    byte[] _lines = [];
    int _length;
    long _start;
    // How far reads have come: a size never takes more than one line ahead of it.
    long _read;
    long _reported;
    CancellationTokenSource? _waiting;

    public EventStream(QmpEventSubscription events, QmpGreeting? greeting)
    {
        _events = events;
        if (greeting is not null) Append(Encoding.UTF8.GetBytes(greeting.ToJson() + "\n"));
    }

    long End => _start + _length;

    /// <summary>Where the lines come to, with the next one if all were read and an event is queued; never waits.</summary>
    public long Size
    {
        get
        {
            lock (_gate)
            {
                if (_read >= End) TakeNext();
                return End;
            }
        }
    }

    public async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer)
    {
        while (true)
        {
            lock (_gate)
            {
                // Before what is kept reads from the oldest kept; at or past the end, what comes next.
                var at = Math.Clamp(offset, _start, End);
                if (at < End || TakeNext())
                {
                    var from = (int)(at - _start);
                    var n = Math.Min(buffer.Length, _length - from);
                    _lines.AsSpan(from, n).CopyTo(buffer.Span);
                    _read = Math.Max(_read, _start + from + n);
                    return n;
                }
            }
            using var interrupt = new CancellationTokenSource();
            Volatile.Write(ref _waiting, interrupt);
            try
            {
                if (!await _events.Reader.WaitToReadAsync(interrupt.Token)) return 0;
            }
            catch (OperationCanceledException) { return -Errno.EINTR; }
            finally { Volatile.Write(ref _waiting, null); }
        }
    }

    // Under the gate: adds the next line, the count of events lost before it first; false if there is none yet.
    bool TakeNext()
    {
        string line;
        var dropped = _events.Dropped;
        if (dropped > _reported)
        {
            line = $"{{\"dropped\": {dropped - _reported}}}\n";
            _reported = dropped;
        }
        else if (_events.Reader.TryRead(out var next)) line = next.Json + "\n";
        else return false;
        Append(Encoding.UTF8.GetBytes(line));
        return true;
    }

    void Append(byte[] line)
    {
        var length = _length;
        if (length + line.Length > Kept && length > Kept / 2)
        {
            var drop = length - Kept / 2;
            _start += drop;
            length -= drop;
            Array.Copy(_lines, drop, _lines, 0, length);
        }
        if (_lines.Length < length + line.Length) Array.Resize(ref _lines, Math.Max(length + line.Length, 2 * _lines.Length));
        line.CopyTo(_lines, length);
        _length = length + line.Length;
    }

    /// <summary>Ends a waiting read with EINTR, from another thread (see <see cref="IFuseFileSystem.ReadInterrupted"/>).</summary>
    public void Interrupt()
    {
        if (Volatile.Read(ref _waiting) is { } waiting)
            ThreadPool.UnsafeQueueUserWorkItem(static w => { try { w.Cancel(); } catch (ObjectDisposedException) { } }, waiting, preferLocal: false);
    }

    public void Dispose() => _events.Dispose();
}
