using QomFs.Qmp;
using QomFs.Testing;

namespace QomFs.Qom.Tests;

/// <summary>What the cache keeps and what it asks QEMU again, counted at a scripted server.</summary>
public class QomCacheTests
{
    static async Task<(ScriptedServer, List<string>, QmpClient)> Serve(Func<ScriptedRequest, string?> answer, int major = 7, int minor = 2)
    {
        var seen = new List<string>();
        var server = ScriptedServer.Qemu(r =>
        {
            lock (seen) seen.Add(r.Execute);
            return answer(r);
        }, major, minor);
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
        Assert.That(cache.IsValueCached("/x", "good") && !cache.IsValueCached("/x", "bad"), Is.True, "a refusal is kept, but is no value");
        Assert.That(seen.Count(c => c == "qom-get"), Is.EqualTo(2));

        cache.InvalidateSubtree("/x");
        await cache.GetTextAsync("/x", "good");
        Assert.That(seen.Count(c => c == "qom-get"), Is.EqualTo(3));
    }

    [Test]
    public async Task ATimeoutIsNotKept()
    {
        var answered = 0;
        using var late = new ManualResetEventSlim();
        // The reply to the first command comes only after the client gave up on it, when the test says so.
        var (server, seen, qmp) = await Serve(r =>
        {
            if (Interlocked.Increment(ref answered) != 1) return """{"return": "late but fine"}""";
            Assert.That(late.Wait(TimeSpan.FromSeconds(10)), Is.True, "the test never let the late reply go");
            return """{"return": "too late"}""";
        });
        using var _ = server;
        await using var __ = qmp;
        var cache = new QomCache(new QomClient(qmp), TimeSpan.FromSeconds(30));
        Assert.ThrowsAsync<QmpTimeoutException>(() => cache.GetTextAsync("/x", "v"));
        // Until QEMU answers the command it gave up on, nothing behind it can be answered: fails at once, unsent.
        Assert.ThrowsAsync<QmpTimeoutException>(() => cache.GetTextAsync("/x", "v"));
        Assert.That(seen.Count(c => c == "qom-get"), Is.EqualTo(1));
        late.Set();
        await Wait.UntilAsync(() => Task.FromResult(qmp.StrayReplies == 1), TimeSpan.FromSeconds(5), "the late reply to be dropped");
        Assert.That(System.Text.Encoding.UTF8.GetString(await cache.GetTextAsync("/x", "v")), Is.EqualTo("late but fine\n"));
        Assert.That(seen.Count(c => c == "qom-get"), Is.EqualTo(2));
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
        Assert.That(cache.IsValueCached("/x", "v"), Is.False);
    }

    [Test]
    public async Task AnExpiredValueIsFetchedAgainAndEachFetchIsReported()
    {
        var (server, seen, qmp) = await Serve(_ => """{"return": 7, "id": ID}""");
        using var serving = server;
        await using var connection = qmp;
        var cache = new QomCache(new QomClient(qmp), TimeSpan.FromMilliseconds(300));
        var reported = new List<string>();
        cache.ValueFetched += (path, name, text) => { lock (reported) reported.Add($"{path} {name} {text.Length}"); };
        await cache.GetTextAsync("/x", "v");
        Assert.That(cache.IsValueCached("/x", "v"), Is.True);
        Wait.Until(() => !cache.IsValueCached("/x", "v"), TimeSpan.FromSeconds(5), "the value to expire");
        await cache.GetTextAsync("/x", "v");
        Assert.That(cache.IsValueCached("/x", "v"), Is.True);
        Assert.That(seen.Count(c => c == "qom-get"), Is.EqualTo(2));
        Assert.That(reported, Is.EqualTo(new[] { "/x v 2", "/x v 2" }));
    }

    [Test]
    public async Task WhereQemuHasQomListGetAListingBringsItsValues()
    {
        var (server, seen, qmp) = await Serve(r => r.Execute switch
        {
            "qom-list-get" => """{"return": [{"properties": [{"name": "kid", "type": "child<k>", "value": "/x/kid"}, {"name": "n", "type": "int", "value": 7}, {"name": "s", "type": "str", "value": "hi"}, {"name": "bad", "type": "str"}]}], "id": ID}""",
            "qom-list" => """{"return": [{"name": "n", "type": "int", "description": "a number", "default-value": 3}], "id": ID}""",
            _ => """{"error": {"class": "GenericError", "desc": "Property 'x.bad' is not readable"}, "id": ID}""",
        }, major: 10, minor: 1);
        using var serving = server;
        await using var connection = qmp;
        var cache = new QomCache(new QomClient(qmp), TimeSpan.FromSeconds(30));

        var listing = await cache.ListAsync("/x");
        Assert.That(listing.Properties.Select(p => p.Name + " " + p.Type), Is.EqualTo(new[] { "kid child<k>", "n int", "s str", "bad str" }));
        Assert.That(listing.Described, Is.False);
        Assert.That(cache.IsValueCached("/x", "n"), Is.True);
        Assert.That(cache.IsValueCached("/x", "kid"), Is.False, "a child's value is a path nobody reads");
        Assert.That(System.Text.Encoding.UTF8.GetString(await cache.GetTextAsync("/x", "n")), Is.EqualTo("7\n"));
        Assert.That(System.Text.Encoding.UTF8.GetString(await cache.GetTextAsync("/x", "s")), Is.EqualTo("hi\n"));
        Assert.ThrowsAsync<QmpCommandException>(() => cache.GetTextAsync("/x", "bad"));

        // Descriptions and defaults come only from qom-list: one, when first asked for.
        for (var i = 0; i < 2; i++)
        {
            var described = await cache.DescribeAsync("/x", "n");
            Assert.That(described?.Description, Is.EqualTo("a number"));
            Assert.That(described?.DefaultValue?.GetInt32(), Is.EqualTo(3));
        }
        Assert.That(seen, Is.EqualTo(new[] { "qom-list-get", "qom-get", "qom-list" }));
    }

    [TestCase(7, 2, new[] { "qom-list", "qom-list" })]
    [TestCase(10, 0, new[] { "qom-list", "qom-list" })]
    [TestCase(10, 1, new[] { "qom-list-get", "qom-list", "qom-list" })]
    public async Task WhereQemuLacksQomListGetListingsAreQomLists(int major, int minor, string[] expected)
    {
        // An older greeting settles it; a QEMU that claims 10.1 but lacks the command is asked once.
        var (server, seen, qmp) = await Serve(r => r.Execute == "qom-list"
            ? """{"return": [{"name": "n", "type": "int", "description": "a number"}], "id": ID}"""
            : """{"error": {"class": "CommandNotFound", "desc": "The command qom-list-get has not been found"}, "id": ID}""", major, minor);
        using var serving = server;
        await using var connection = qmp;
        var cache = new QomCache(new QomClient(qmp), TimeSpan.FromSeconds(30));
        foreach (var path in new[] { "/x", "/y" })
        {
            var listing = await cache.ListAsync(path);
            Assert.That(listing.Described && listing.Find("n")?.Description == "a number", Is.True);
            Assert.That(cache.IsValueCached(path, "n"), Is.False);
        }
        Assert.That((await cache.DescribeAsync("/x", "n"))?.Description, Is.EqualTo("a number"));
        Assert.That(seen, Is.EqualTo(expected));
    }
}
