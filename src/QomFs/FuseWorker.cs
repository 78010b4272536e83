using QomFs.Fuse;
using QomFs.Threading;

namespace QomFs;

/// <summary>
/// Runs a QMP task to completion on the FUSE worker thread that calls; a failure becomes the errno the given map
/// picks. Served from the cache it completes at once; otherwise the thread runs the task's continuations itself
/// (<see cref="ThreadPump"/>), so that a reply costs one wake-up, from the QMP reader to this thread.
/// </summary>
static class FuseWorker
{
    public static T Run<T>(Func<Task<T>> start, Func<Exception, int> map)
    {
        try { return ThreadPump.Run(start).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is not FuseException) { throw new FuseException(map(e), e.Message, e); }
    }

    public static void Run(Func<Task> start, Func<Exception, int> map)
    {
        try { ThreadPump.Run(start).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is not FuseException) { throw new FuseException(map(e), e.Message, e); }
    }
}
