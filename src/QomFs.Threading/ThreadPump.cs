namespace QomFs.Threading;

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
        // Before the start: a reply that comes while the request is still being sent is queued for this thread too.
        lock (pump._gate) pump._pumping = true;
        try
        {
            var task = start();
            pump.PumpUntil(task);
            return task;
        }
        finally
        {
            lock (pump._gate)
            {
                pump._pumping = false;
                while (pump._queue.TryDequeue(out var left)) ToPool(left.Callback, left.State);
            }
            SetSynchronizationContext(previous);
        }
    }

    void PumpUntil(Task task)
    {
        if (task.IsCompleted)
        {
            lock (_gate) if (_queue.Count == 0) return;
        }
        // Inline on whichever thread completes the task (most often this one, running a continuation). An awaiter
        // callback would not do: .NET never inlines it under a synchronization context of its own, such as this one,
        // and queues it to the pool instead, whose workers then spin on the CPU that QEMU needs.
        task.ContinueWith(static (_, pump) => ((ThreadPump)pump!).Wake(), this, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
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
