namespace QomFs.Qmp;

/// <summary>
/// Sync over async without the thread pool, for a caller that must block until its commands complete (a FUSE worker
/// thread, a command-line tool). With a plain GetResult a reply would travel reader thread → pool thread (the
/// awaiting continuations) → the caller. Instead, while it waits, the calling thread is the synchronization context
/// of the task it started: the continuations are posted to it and it runs them itself, so a reply costs one wake-up
/// and a short-lived process starts no pool threads. A continuation posted when its thread is no longer waiting
/// goes to the thread pool.
/// </summary>
public sealed class ThreadPump : SynchronizationContext
{
    [ThreadStatic] static ThreadPump? t_pump;

    readonly object _gate = new();
    readonly Queue<(SendOrPostCallback Callback, object? State)> _queue = new();
    bool _pumping;

    /// <summary>Starts a task on this thread and waits for it, running its continuations here.</summary>
    public static TTask Run<TTask>(Func<TTask> start) where TTask : Task
    {
        var pump = t_pump ??= new ThreadPump();
        var previous = Current;
        SetSynchronizationContext(pump);
        try
        {
            var task = start();
            if (!task.IsCompleted) pump.PumpUntil(task);
            return task;
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }

    void PumpUntil(Task task)
    {
        lock (_gate) _pumping = true;
        task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(Wake);
        try
        {
            while (true)
            {
                (SendOrPostCallback Callback, object? State) item;
                lock (_gate)
                {
                    while (_queue.Count == 0 && !task.IsCompleted) Monitor.Wait(_gate);
                    if (_queue.Count == 0) return;
                    item = _queue.Dequeue();
                }
                item.Callback(item.State);
            }
        }
        finally
        {
            lock (_gate)
            {
                _pumping = false;
                while (_queue.TryDequeue(out var left)) ToPool(left.Callback, left.State);
            }
        }
    }

    void Wake()
    {
        lock (_gate) Monitor.Pulse(_gate);
    }

    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_gate)
        {
            if (_pumping)
            {
                _queue.Enqueue((d, state));
                Monitor.Pulse(_gate);
                return;
            }
        }
        ToPool(d, state);
    }

    static void ToPool(SendOrPostCallback d, object? state) =>
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.d(s.state), (d, state), preferLocal: false);

    public override SynchronizationContext CreateCopy() => this;
}
