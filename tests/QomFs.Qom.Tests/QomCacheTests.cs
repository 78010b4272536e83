using QomFs.Qmp;
using QomFs.Testing;

namespace QomFs.Qom.Tests;

/// <summary>What the cache keeps and what it asks QEMU again, counted at a scripted server.</summary>
public class QomCacheTests
{
    static async Task<(ScriptedServer, List<string>, QmpClient)> Serve(Func<ScriptedRequest, string?> answer)
    {
        var seen = new List<string>();
        var server = new ScriptedServer(async c =>
        {
            await ScriptedServer.Handshake(c);
            while (true)
            {
                var r = await c.ReadRequestAsync();
                lock (seen) seen.Add(r.Execute);
                var reply = answer(r);
                if (reply is not null) await c.SendLineAsync(reply.Replace("ID", r.Id));
            }
        });
        var qmp = await QmpClient.ConnectAsync(QmpAddress.Unix(server.SocketPath), new QmpClientOptions { CommandTimeout = TimeSpan.FromMilliseconds(200) });
        return (server, seen, qmp);
    }

    [Test]
    public async Task ValuesAndRefusalsAreKeptForTheTtlAndConcurrentMissesShareOneCommand()
    {
        var (server, seen, qmp) = await Serve(r => r.Json.Contains("\"bad\"")
            ? """{"error": {"class": "GenericError", "desc": "Property 'x.bad' is not readable"}, "id": ID}"""
            : """{"return": 42, "id": ID}""");
        using var _ = server;
        await using var __ = qmp;
        var cache = new QomCache(new QomClient(qmp), TimeSpan.FromSeconds(30));

        var texts = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => cache.GetTextAsync("/x", "good")));
        Assert.That(texts.Select(t => System.Text.Encoding.UTF8.GetString(t)), Is.All.EqualTo("42\n"));
        for (var i = 0; i < 3; i++) Assert.ThrowsAsync<QmpCommandException>(() => cache.GetTextAsync("/x", "bad"));
        Assert.That(cache.TryLastFetch("/x", "good", out var fetch, out var cached) && cached && fetch == new QomFetch(0, 3), Is.True);
        Assert.That(seen.Count(c => c == "qom-get"), Is.EqualTo(2));

        cache.InvalidateSubtree("/x");
        await cache.GetTextAsync("/x", "good");
        Assert.That(seen.Count(c => c == "qom-get"), Is.EqualTo(3));
    }

    [Test]
    public async Task ATimeoutIsNotKept()
    {
        var answered = 0;
        // QEMU answers in order: the reply to the first command comes only after the client gave up on it.
        var (server, seen, qmp) = await Serve(r => Interlocked.Increment(ref answered) == 1 ? null
            : """{"return": "too late"}""" + "\n" + """{"return": "late but fine"}""");
        using var _ = server;
        await using var __ = qmp;
        var cache = new QomCache(new QomClient(qmp), TimeSpan.FromSeconds(30));
        Assert.ThrowsAsync<QmpTimeoutException>(() => cache.GetTextAsync("/x", "v"));
        Assert.That(System.Text.Encoding.UTF8.GetString(await cache.GetTextAsync("/x", "v")), Is.EqualTo("late but fine\n"));
        Assert.That(seen.Count(c => c == "qom-get"), Is.EqualTo(2));
        Assert.That(qmp.StrayReplies, Is.EqualTo(1));
    }

    [Test]
    public async Task ATtlOfZeroAsksEveryTime()
    {
        var (server, seen, qmp) = await Serve(_ => """{"return": true, "id": ID}""");
        using var _ = server;
        await using var __ = qmp;
        var cache = new QomCache(new QomClient(qmp), TimeSpan.Zero);
        for (var i = 0; i < 3; i++) await cache.GetTextAsync("/x", "v");
        Assert.That(seen.Count(c => c == "qom-get"), Is.EqualTo(3));
        Assert.That(cache.TryLastFetch("/x", "v", out var none, out var never), Is.False);
    }

    [Test]
    public async Task EveryFetchOfAValueAfterTheFirstHasAGenerationOfItsOwn()
    {
        var (server, seen, qmp) = await Serve(_ => """{"return": 7, "id": ID}""");
        using var serving = server;
        await using var connection = qmp;
        var cache = new QomCache(new QomClient(qmp), TimeSpan.FromMilliseconds(50));
        await cache.GetTextAsync("/x", "v");
        Assert.That(cache.TryLastFetch("/x", "v", out var first, out var cached) && cached && first == new QomFetch(0, 2), Is.True);
        Wait.Until(() => cache.TryLastFetch("/x", "v", out var kept, out var fresh) && !fresh && kept == first, TimeSpan.FromSeconds(5),
            "the value to expire, its fetch still known");
        await cache.GetTextAsync("/x", "v");
        Assert.That(cache.TryLastFetch("/x", "v", out var second, out cached) && cached && second == new QomFetch(1, 2), Is.True);
        Assert.That(seen.Count(c => c == "qom-get"), Is.EqualTo(2));
    }
}
