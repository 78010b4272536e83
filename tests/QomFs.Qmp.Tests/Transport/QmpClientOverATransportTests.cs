using QomFs.Testing;

namespace QomFs.Qmp.Tests.Transport;

/// <summary>The QMP client alone, over an in-memory transport: what it does is independent of the socket.</summary>
public class QmpClientOverATransportTests
{
    static readonly QmpAddress Address = QmpAddress.Unix("/fake");
    const string Resume = """{"event": "RESUME", "timestamp": {"seconds": 1, "microseconds": 2}}""";

    static Task<QmpClient> Start(FakeTransport t, bool readerThread = true, TimeSpan? commandTimeout = null) =>
        QmpClient.ConnectAsync(t, Address, new QmpClientOptions
        {
            ReaderThread = readerThread,
            CommandTimeout = commandTimeout ?? TimeSpan.FromSeconds(10),
        });

    static string? Text(QmpResult r) => r.ToElement().GetString();

    [Test]
    public async Task RepliesGoToTheCommandsInTheOrderTheyWereSent()
    {
        using var transport = new FakeTransport();
        await using var client = await Start(transport);
        var calls = new[] { "a", "b", "c" }.Select(c => client.ExecuteAsync(c)).ToArray();
        foreach (var n in new[] { "1", "2", "3" }) transport.Push($$"""{"return": "{{n}}"}""");
        var results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(results.Select(Text), Is.EqualTo(new[] { "1", "2", "3" }));
        Assert.That(transport.Sent, Is.EqualTo(new[] { "a", "b", "c" }), "a negotiated transport gets no qmp_capabilities");
        Assert.That(client.Greeting, Is.Null);
    }

    [Test]
    public async Task ATransportThatIsNotNegotiatedIsGreetedAndNegotiatedWith()
    {
        using var transport = new FakeTransport { Negotiated = false, Answer = _ => """{"return": {}}""" };
        transport.Push("""{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": []}}""");
        await using var client = await Start(transport);
        Assert.That(client.Greeting?.Version, Is.EqualTo(new Version(7, 2, 0)));
        Assert.That(transport.Sent, Is.EqualTo(new[] { "qmp_capabilities" }));
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task AnAbandonedCommandsLateReplyTakesItsTurnAndIsCountedAsStray(bool readerThread)
    {
        using var transport = new FakeTransport();
        await using var client = await Start(transport, readerThread);
        Assert.ThrowsAsync<QmpTimeoutException>(() => client.ExecuteAsync("slow", timeout: TimeSpan.FromMilliseconds(100)));
        transport.Push("""{"return": "too late"}""");
        // The reader thread takes the late reply at once; without one, the next command's caller reads both.
        if (readerThread) Wait.Until(() => client.StrayReplies == 1, TimeSpan.FromSeconds(5), "the late reply");
        else transport.Push("""{"return": "mine"}""");
        var next = client.ExecuteAsync("next");
        if (readerThread) transport.Push("""{"return": "mine"}""");
        Assert.That(Text(await next.WaitAsync(TimeSpan.FromSeconds(5))), Is.EqualTo("mine"));
        Assert.That(client.StrayReplies, Is.EqualTo(1));
        Assert.That(client.IsConnected, Is.True);
    }

    [Test]
    public async Task AfterOneTimeoutEveryCommandFailsAtOnceAndNoneIsSentUntilTheServerAnswers()
    {
        using var transport = new FakeTransport();
        await using var client = await Start(transport, commandTimeout: TimeSpan.FromSeconds(30));
        var stuck = client.ExecuteAsync("stuck", timeout: TimeSpan.FromMilliseconds(100));
        var behind = client.ExecuteAsync("behind");
        Assert.ThrowsAsync<QmpTimeoutException>(() => stuck);
        var e = Assert.ThrowsAsync<QmpTimeoutException>(() => behind.WaitAsync(TimeSpan.FromSeconds(5)))!;
        Assert.That(e.Message, Does.Contain("has not answered stuck"), "its 30 s deadline was not waited for");
        var refused = Assert.ThrowsAsync<QmpTimeoutException>(() => client.ExecuteAsync("new").WaitAsync(TimeSpan.FromSeconds(5)))!;
        Assert.That(refused.Message, Does.StartWith("new: not sent"));
        Assert.That(transport.Sent, Is.EqualTo(new[] { "stuck", "behind" }), "a command refused at once never reaches the server");

        transport.Push("""{"return": "stuck, late"}""");
        transport.Push("""{"return": "behind, late"}""");
        Wait.Until(() => client.StrayReplies == 2, TimeSpan.FromSeconds(5), "the late replies");
        var again = client.ExecuteAsync("again");
        transport.Push("""{"return": "ok"}""");
        Assert.That(Text(await again.WaitAsync(TimeSpan.FromSeconds(5))), Is.EqualTo("ok"));
    }

    [Test]
    public async Task EveryEventReachesEverySubscriberAndRepliesStillTheirCommands()
    {
        using var transport = new FakeTransport();
        await using var client = await Start(transport);
        using var first = client.SubscribeEvents();
        using var second = client.SubscribeEvents();
        var call = client.ExecuteAsync("query-status");
        transport.Push(Resume);
        transport.Push("""{"return": "ok"}""");
        Assert.That(Text(await call.WaitAsync(TimeSpan.FromSeconds(5))), Is.EqualTo("ok"));
        foreach (var s in new[] { first, second })
        {
            var e = await s.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            Assert.That((e.Name, e.Timestamp.ToUnixTimeSeconds()), Is.EqualTo(("RESUME", 1L)));
        }
    }

    [Test]
    public async Task WhenThePeerClosesEveryPendingCommandFailsAtOnce()
    {
        using var transport = new FakeTransport();
        var client = await Start(transport);
        using var events = client.SubscribeEvents();
        var pending = new[] { client.ExecuteAsync("a"), client.ExecuteAsync("b") };
        transport.PeerCloses();
        foreach (var p in pending)
            Assert.ThrowsAsync<QmpConnectionException>(() => p.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.That(await client.Disconnected.WaitAsync(TimeSpan.FromSeconds(5)), Is.TypeOf<QmpConnectionException>());
        Assert.That(client.IsConnected, Is.False);
        Assert.That(transport.Disposed, Is.True, "the client disposes its transport when the session ends");
        Assert.That(events.Reader.Completion.IsCompleted, Is.True);
        Assert.ThrowsAsync<QmpConnectionException>(() => client.ExecuteAsync("after"));
    }

    [Test]
    public async Task ASendThatTimesOutEndsTheSessionAsALostConnection()
    {
        using var transport = new FakeTransport();
        await using var client = await Start(transport);
        transport.SendTimesOut = true;
        var e = Assert.ThrowsAsync<QmpConnectionException>(() => client.ExecuteAsync("stuck", timeout: TimeSpan.FromSeconds(1)));
        Assert.That(e!.Message, Does.Contain("stuck").And.Contain("took no request"));
        Assert.That(client.IsConnected, Is.False);
        Assert.That(await client.Disconnected.WaitAsync(TimeSpan.FromSeconds(5)), Is.TypeOf<QmpConnectionException>());
    }

    [Test]
    public async Task AReplyToNoCommandIsAProtocolErrorForWhatComesAfter()
    {
        using var transport = new FakeTransport();
        await using var client = await Start(transport);
        transport.Push("""{"return": "nobody asked"}""");
        var reason = await client.Disconnected.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(reason, Is.TypeOf<QmpProtocolException>());
        var e = Assert.ThrowsAsync<QmpProtocolException>(() => client.ExecuteAsync("x"));
        Assert.That(e!.Message, Is.EqualTo(reason.Message));
    }
}
