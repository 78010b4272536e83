namespace QomFs.Threading.Tests;

public class WaitingQueueTests
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Test]
    public void ItemsComeOutInOrderAndAFullOrCompletedQueueTakesNoMore()
    {
        var q = new WaitingQueue<int>(capacity: 2);
        Assert.That((q.TryAdd(1), q.TryAdd(2), q.TryAdd(3)), Is.EqualTo((true, true, false)), "full at 2");
        q.Complete();
        Assert.That(q.TryAdd(4), Is.False, "completed");
        Assert.That(q.IsCompleted, Is.False, "items are left");
        Assert.That(q.TakeEach().ToArray(), Is.EqualTo(new[] { 1, 2 }), "what was queued before the end, then the end");
        Assert.That(q.IsCompleted, Is.True);
    }

    [Test]
    public void ACompletionThatDiscardsLeavesNothingToTake()
    {
        var q = new WaitingQueue<string>();
        q.TryAdd("a");
        q.Complete(discard: true);
        Assert.That(q.TryTake(out _, Deadline), Is.False);
        Assert.That(q.IsCompleted, Is.True);
    }

    [Test]
    public void AWaitingTakerWakesForAnItemAndForTheEnd()
    {
        var q = new WaitingQueue<int>();
        var taken = new List<int>();
        var taker = new Thread(() => { foreach (var i in q.TakeEach()) taken.Add(i); });
        taker.Start();
        var adder = new Thread(() => { for (var i = 0; i < 1000; i++) q.TryAdd(i); q.Complete(); });
        adder.Start();
        Assert.That(adder.Join(Deadline) && taker.Join(Deadline), Is.True, "no taker left waiting");
        Assert.That(taken, Is.EqualTo(Enumerable.Range(0, 1000)));
    }

    [Test]
    public void AnEmptyQueueTimesOutWithoutEnding()
    {
        var q = new WaitingQueue<int>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.That(q.TryTake(out _, TimeSpan.FromMilliseconds(50)), Is.False);
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(45)).And.LessThan(Deadline));
        Assert.That(q.IsCompleted, Is.False);
    }

    [Test]
    public void ACancelledWaitThrows()
    {
        var q = new WaitingQueue<int>();
        using var cancel = new CancellationTokenSource();
        var waiting = Task.Run(() => q.TryTake(out _, Timeout.InfiniteTimeSpan, cancel.Token));
        cancel.CancelAfter(20);
        Assert.That(() => waiting.Wait(Deadline), Throws.InstanceOf<AggregateException>().With.InnerException.InstanceOf<OperationCanceledException>());
    }
}
