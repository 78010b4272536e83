using System.Text;
using System.Threading.Channels;
using QomFs.Fuse;
using QomFs.Qmp;

namespace QomFs;

/// <summary>
/// One open <c>.events</c>: QEMU's events from its open onward, one JSON line each, read like a pipe: a read
/// with nothing queued waits for the next event, and ends with EINTR if its caller gets a signal. Bounded by the
/// subscription: a reader that falls behind loses the oldest events, and reads a line that counts them,
/// <c>{"dropped": N}</c>, where they were. The end of the connection is its end of file.
/// </summary>
sealed class EventStream(QmpEventSubscription events) : IDisposable
{
    byte[] _pending = [];
    int _offset;
    long _reported;
    CancellationTokenSource? _waiting;

    public async ValueTask<int> ReadAsync(Memory<byte> buffer)
    {
        if (_offset >= _pending.Length)
        {
            var dropped = events.Dropped;
            if (dropped > _reported)
            {
                _pending = Encoding.UTF8.GetBytes($"{{\"dropped\": {dropped - _reported}}}\n");
                _reported = dropped;
            }
            else if (!events.Reader.TryRead(out var next))
            {
                using var interrupt = new CancellationTokenSource();
                Volatile.Write(ref _waiting, interrupt);
                try
                {
                    if (!await events.Reader.WaitToReadAsync(interrupt.Token)) return 0;
                }
                catch (OperationCanceledException) { return -Errno.EINTR; }
                finally { Volatile.Write(ref _waiting, null); }
                return await ReadAsync(buffer);
            }
            else _pending = Encoding.UTF8.GetBytes(next.Json + "\n");
            _offset = 0;
        }
        var n = Math.Min(buffer.Length, _pending.Length - _offset);
        _pending.AsSpan(_offset, n).CopyTo(buffer.Span);
        _offset += n;
        return n;
    }

    /// <summary>Ends a waiting read with EINTR, from another thread (see <see cref="IFuseFileSystem.ReadInterrupted"/>).</summary>
    public void Interrupt()
    {
        if (Volatile.Read(ref _waiting) is { } waiting)
            ThreadPool.UnsafeQueueUserWorkItem(static w => { try { w.Cancel(); } catch (ObjectDisposedException) { } }, waiting, preferLocal: false);
    }

    public void Dispose() => events.Dispose();
}
