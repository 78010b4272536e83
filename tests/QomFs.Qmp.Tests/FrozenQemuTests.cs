using System.Diagnostics;
using QomFs.Testing;

namespace QomFs.Qmp.Tests;

/// <summary>
/// A QEMU stopped with SIGSTOP: once one command has timed out unanswered, every command sent after it fails at once,
/// the ones already waiting and the new ones, until QEMU answers it; then the session works as before. A command sent
/// before it keeps its own deadline.
/// </summary>
[Category(Needs.Qemu)]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class FrozenQemuTests(QemuPeer peer)
{
    const int SIGSTOP = 19, SIGCONT = 18;
    static readonly TimeSpan Limit = TimeSpan.FromSeconds(1);

    [Test]
    public async Task OneTimeoutFailsEveryCommandUntilQemuAnswersAgain()
    {
        using var qemu = QemuProcess.Start(peer);
        await using var c = await QmpClient.ConnectAsync(QmpAddress.Unix(qemu.QmpSocket), new QmpClientOptions { CommandTimeout = Limit });
        await c.ExecuteAsync("query-status");
        qemu.Signal(SIGSTOP);
        try
        {
            var clock = Stopwatch.StartNew();
            var first = c.ExecuteAsync("query-status");
            // Sent half a timeout later: without the stall it would wait until 1.5 s.
            await Task.Delay(Limit / 2);
            var behind = c.ExecuteAsync("query-name");
            Assert.ThrowsAsync<QmpTimeoutException>(() => first);
            var e = Assert.ThrowsAsync<QmpTimeoutException>(() => behind)!;
            Assert.That(clock.Elapsed, Is.LessThan(Limit * 1.4), "the command behind failed with the first");
            Assert.That(e.Message, Does.Contain("has not answered query-status"));

            clock.Restart();
            var later = Assert.ThrowsAsync<QmpTimeoutException>(() => c.ExecuteAsync("query-version"))!;
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromMilliseconds(200)), "a new command fails at once");
            Assert.That(later.Message, Does.Contain("not sent"));
        }
        finally { qemu.Signal(SIGCONT); }

        // QEMU answers the two late commands (stray replies), and the session is whole again.
        Wait.Until(() => c.StrayReplies == 2, TimeSpan.FromSeconds(10), "QEMU's late replies");
        var status = (await c.ExecuteAsync("query-status")).ToElement();
        Assert.That(status.GetProperty("status").GetString(), Is.EqualTo("prelaunch"));
        Assert.That(c.IsConnected);
    }

    [Test]
    public async Task ACommandSentBeforeOneThatTimedOutKeepsItsOwnDeadline()
    {
        using var qemu = QemuProcess.Start(peer);
        await using var c = await QmpClient.ConnectAsync(QmpAddress.Unix(qemu.QmpSocket), new QmpClientOptions { CommandTimeout = Limit });
        qemu.Signal(SIGSTOP);
        Task<QmpResult> slow;
        try
        {
            slow = c.ExecuteAsync("query-status", timeout: TimeSpan.FromSeconds(30));
            var quick = c.ExecuteAsync("query-name", timeout: Limit / 2);
            Assert.ThrowsAsync<QmpTimeoutException>(() => quick);
            Assert.That(slow.IsCompleted, Is.False, "the command ahead still waits for its reply");
            var later = Assert.ThrowsAsync<QmpTimeoutException>(() => c.ExecuteAsync("query-version"))!;
            Assert.That(later.Message, Does.Contain("has not answered query-name"));
        }
        finally { qemu.Signal(SIGCONT); }

        var status = (await slow.WaitAsync(TimeSpan.FromSeconds(10))).ToElement();
        Assert.That(status.GetProperty("status").GetString(), Is.EqualTo("prelaunch"));
        Wait.Until(() => c.StrayReplies == 1, TimeSpan.FromSeconds(10), "query-name's late reply");
        Assert.That((await c.ExecuteAsync("query-name")).ToElement().ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.Object));
    }

    [Test]
    public async Task ACommandWithoutADeadlineIsNeverFailedForAnothersTimeout()
    {
        using var qemu = QemuProcess.Start(peer);
        await using var c = await QmpClient.ConnectAsync(QmpAddress.Unix(qemu.QmpSocket), new QmpClientOptions { CommandTimeout = Limit });
        qemu.Signal(SIGSTOP);
        Task<QmpResult> patient, sentDuringTheStall;
        try
        {
            var quick = c.ExecuteAsync("query-name", timeout: Limit / 2);
            patient = c.ExecuteAsync("query-status", timeout: Timeout.InfiniteTimeSpan);
            Assert.ThrowsAsync<QmpTimeoutException>(() => quick);
            Assert.ThrowsAsync<QmpTimeoutException>(() => c.ExecuteAsync("query-version"), "one with a deadline fails at once");
            sentDuringTheStall = c.ExecuteAsync("query-status", timeout: Timeout.InfiniteTimeSpan);
            Assert.That((patient.IsCompleted, sentDuringTheStall.IsCompleted), Is.EqualTo((false, false)));
        }
        finally { qemu.Signal(SIGCONT); }

        foreach (var t in new[] { patient, sentDuringTheStall })
            Assert.That((await t.WaitAsync(TimeSpan.FromSeconds(10))).ToElement().GetProperty("status").GetString(), Is.EqualTo("prelaunch"));
        Assert.That(c.StrayReplies, Is.EqualTo(1), "query-name's late reply");
    }
}
