namespace QomFs.Threading.Tests;

// The pool's counters are process-wide: nothing else may run meanwhile.
[NonParallelizable]
public class ThreadPumpTests
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    // As a QMP reply does: completed on another thread, with continuations that must not run there.
    static TaskCompletionSource<int> Reply() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    static void CompleteFromThread(TaskCompletionSource<int> reply, int value)
    {
        var t = new Thread(() => reply.SetResult(value));
        t.Start();
        Assert.That(t.Join(Deadline), Is.True, "the completing thread never finished");
    }

    static async Task<int> AwaitOnCallerAsync(TaskCompletionSource<int> reply, Action<int> onThread)
    {
        var value = await reply.Task;
        onThread(Environment.CurrentManagedThreadId);
        return value + 1;
    }

    [Test]
    public void ContinuationsRunOnTheWaitingThread()
    {
        var reply = Reply();
        var seenOn = 0;
        var waiterId = 0;
        var result = 0;
        var waiter = new Thread(() =>
        {
            waiterId = Environment.CurrentManagedThreadId;
            result = ThreadPump.Run(() => AwaitOnCallerAsync(reply, id => seenOn = id)).GetAwaiter().GetResult();
        });
        waiter.Start();
        CompleteWhenBlocked(waiter, reply, 41);
        Assert.That(result, Is.EqualTo(42));
        Assert.That(seenOn, Is.EqualTo(waiterId));
    }

    [Test]
    public void AReplyCostsNoPoolWork()
    {
        const int rounds = 100;
        long PoolItems() => ThreadPool.CompletedWorkItemCount + ThreadPool.PendingWorkItemCount;
        var before = PoolItems();
        for (var i = 0; i < rounds; i++)
        {
            var reply = Reply();
            // The reply comes before the pump waits (as a fast one can, while the request is being sent): its
            // continuation must still run here, and the task it completes here must wake nobody through the pool.
            var task = ThreadPump.Run(() =>
            {
                var t = AwaitOnCallerAsync(reply, _ => { });
                CompleteFromThread(reply, i);
                return t;
            });
            Assert.That(task.GetAwaiter().GetResult(), Is.EqualTo(i + 1));
        }
        // One item or more per round: the continuation, or the pump's own wake-up, went through the pool (both did).
        Assert.That(PoolItems() - before, Is.LessThan(rounds / 4));
    }

    [Test]
    public void ATaskCompletedElsewhereEndsTheWait()
    {
        // No continuation is posted to the pump here: only the completion itself can wake it.
        var reply = Reply();
        Task<int>? result = null;
        var waiter = new Thread(() => result = ThreadPump.Run(() => reply.Task));
        waiter.Start();
        CompleteWhenBlocked(waiter, reply, 7);
        Assert.That(result!.Result, Is.EqualTo(7));
    }

    // Completes the reply once the waiter blocks in the pump, then waits for the waiter to finish.
    static void CompleteWhenBlocked(Thread waiter, TaskCompletionSource<int> reply, int value)
    {
        var deadline = Environment.TickCount64 + (long)Deadline.TotalMilliseconds;
        while ((waiter.ThreadState & ThreadState.WaitSleepJoin) == 0 && waiter.IsAlive)
        {
            Assert.That(Environment.TickCount64, Is.LessThan(deadline), "the waiter never blocked");
            Thread.Yield();
        }
        CompleteFromThread(reply, value);
        Assert.That(waiter.Join(Deadline), Is.True, "Run did not return after the task completed");
    }
}
