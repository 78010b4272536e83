namespace QomFs.Threading;

/// <summary>
/// A queue between threads whose takers sleep at once when it is empty (Monitor.Wait). BlockingCollection and
/// SemaphoreSlim spin first (sched_yield, for tens of microseconds), at every item of a stream that comes one by one,
/// on the CPU that the peer (QEMU, libvirtd) and the user's programs need: on two cores, a fifth of the daemon's CPU
/// in a cold dump went to that spinning (measured with perf).
/// </summary>
public sealed class WaitingQueue<T>(int capacity = int.MaxValue)
{
    readonly Queue<T> _items = new();
    bool _completed;

    /// <summary>Whether <see cref="Complete"/> was called and every item taken.</summary>
    public bool IsCompleted
    {
        get { lock (_items) return _completed && _items.Count == 0; }
    }

    /// <summary>Queues an item: false, and nothing queued, when the queue is full or completed.</summary>
    public bool TryAdd(T item)
    {
        lock (_items)
        {
            if (_completed || _items.Count >= capacity) return false;
            _items.Enqueue(item);
            if (_items.Count == 1) Monitor.PulseAll(_items);
            return true;
        }
    }

    /// <summary>No more items: takers get what is queued, then false; <paramref name="discard"/> drops what is queued.</summary>
    public void Complete(bool discard = false)
    {
        lock (_items)
        {
            _completed = true;
            if (discard) _items.Clear();
            Monitor.PulseAll(_items);
        }
    }

    /// <summary>The oldest item, waiting for one: false once completed and empty, or after <paramref name="timeout"/>.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancel"/> was cancelled while waiting.</exception>
    public bool TryTake(out T item, TimeSpan timeout, CancellationToken cancel = default)
    {
        using var _ = cancel.CanBeCanceled ? cancel.Register(static q => ((WaitingQueue<T>)q!).WakeAll(), this) : default;
        var deadline = timeout == Timeout.InfiniteTimeSpan || timeout.TotalMilliseconds >= int.MaxValue ? long.MaxValue
            : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_items)
        {
            while (_items.Count == 0 && !_completed)
            {
                cancel.ThrowIfCancellationRequested();
                var left = deadline - Environment.TickCount64;
                if (left <= 0) break;
                Monitor.Wait(_items, deadline == long.MaxValue ? Timeout.Infinite : (int)Math.Min(left, int.MaxValue));
            }
            return _items.TryDequeue(out item!);
        }
    }

    /// <summary>Each item in turn, waiting for the next, until completed and empty.</summary>
    public IEnumerable<T> TakeEach()
    {
        while (TryTake(out var item, Timeout.InfiniteTimeSpan)) yield return item;
    }

    void WakeAll()
    {
        lock (_items) Monitor.PulseAll(_items);
    }
}
