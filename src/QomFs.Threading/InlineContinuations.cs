namespace QomFs.Threading;

/// <summary>
/// The asynchronous counterpart of <see cref="ThreadPump"/>: starts a task whose continuations run on whichever
/// thread completes what it awaits, which for a QMP command is the client's reader thread, with no hop through the
/// thread pool. For short, non-blocking continuations only (copying a reply, answering a FUSE request): one that
/// waited for another command on the reader thread would wait for itself.
/// </summary>
public sealed class InlineContinuations : SynchronizationContext
{
    static readonly InlineContinuations Instance = new();

    /// <summary>Calls <paramref name="start"/> with this context current, so that the awaits in it resume inline.</summary>
    public static TTask Run<TTask>(Func<TTask> start) where TTask : Task
    {
        var previous = Current;
        SetSynchronizationContext(Instance);
        try { return start(); }
        finally { SetSynchronizationContext(previous); }
    }

    public override void Post(SendOrPostCallback d, object? state)
    {
        var previous = Current;
        SetSynchronizationContext(this);
        try { d(state); }
        finally { SetSynchronizationContext(previous); }
    }

    public override SynchronizationContext CreateCopy() => this;
}
