namespace QomFs.Threading.Tests;

public class InlineContinuationsTests
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    // Two awaits deep, as a read awaits the cache, which awaits the command's reply.
    static async Task<int> OuterAsync(Task<int> reply, Action<int> onThread)
    {
        var value = await InnerAsync(reply);
        onThread(Environment.CurrentManagedThreadId);
        return value + 1;
    }

    static async Task<int> InnerAsync(Task<int> reply) => await reply + 1;

    [Test]
    public void ContinuationsRunOnTheThreadThatCompletesTheAwaitedTask()
    {
        for (var i = 0; i < 50; i++)
        {
            // As a QMP reply is: completed on another thread, with continuations that may not run inline by default.
            var reply = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            var seenOn = 0;
            var task = InlineContinuations.Run(() => OuterAsync(reply.Task, id => seenOn = id));
            Assert.That(task.IsCompleted, Is.False);

            var completerId = 0;
            var doneWithTheCompletion = false;
            var completer = new Thread(() =>
            {
                completerId = Environment.CurrentManagedThreadId;
                reply.SetResult(i);
                doneWithTheCompletion = task.IsCompleted;
            });
            completer.Start();
            Assert.That(completer.Join(Deadline), Is.True);
            Assert.That(doneWithTheCompletion, Is.True, "the continuations had not run when SetResult returned");
            Assert.That(task.Result, Is.EqualTo(i + 2));
            // On the completing thread, so not through the pool either.
            Assert.That(seenOn, Is.EqualTo(completerId));
        }
    }

    [Test]
    public void TheCallersContextIsRestored()
    {
        var mine = new SynchronizationContext();
        SynchronizationContext.SetSynchronizationContext(mine);
        try
        {
            SynchronizationContext? inside = null;
            InlineContinuations.Run(() =>
            {
                inside = SynchronizationContext.Current;
                return Task.CompletedTask;
            });
            Assert.That(inside, Is.InstanceOf<InlineContinuations>());
            Assert.That(SynchronizationContext.Current, Is.SameAs(mine));
        }
        finally { SynchronizationContext.SetSynchronizationContext(null); }
    }
}
