using QomFs.Qmp;
using QomFs.Qom;
using QomFs.Testing;

namespace QomFs.Tests.Unit;

/// <summary>What the fetch record keeps of the cache's fetches, over a scripted QEMU in this process.</summary>
public class FetchRecordTests
{
    /// <summary>A cache over a scripted QEMU, and a record of its fetches.</summary>
    sealed class Rig(ScriptedServer server, QomCache cache) : IAsyncDisposable
    {
        public QomCache Cache { get; } = cache;
        public FetchRecord Record { get; } = new(cache);

        public async ValueTask DisposeAsync()
        {
            await Cache.Qom.Qmp.DisposeAsync();
            server.Dispose();
        }
    }

    static async Task<Rig> Start(TimeSpan ttl, Func<ScriptedRequest, string?> answer, int major = 7, int minor = 2)
    {
        var server = ScriptedServer.Qemu(answer, major, minor);
        var qmp = await QmpClient.ConnectAsync(QmpAddress.Unix(server.SocketPath));
        return new Rig(server, new QomCache(new QomClient(qmp), ttl));
    }

    static string Listing(ScriptedRequest r) => r.Execute == "qom-list"
        ? """{"return": [{"name": "v", "type": "int"}], "id": ID}"""
        : """{"return": 7, "id": ID}""";

    [Test]
    public async Task EveryFetchOfAValueAfterTheFirstHasAGenerationOfItsOwn()
    {
        await using var rig = await Start(TimeSpan.FromSeconds(30), Listing);
        var (cache, record) = (rig.Cache, rig.Record);
        Assert.That(record.TryLastFetch("/x", "v", out _, out _), Is.False, "not fetched yet");
        await cache.GetTextAsync("/x", "v");
        Assert.That(record.TryLastFetch("/x", "v", out var first, out var cached) && cached && first == new ValueFetch(0, 2), Is.True);
        cache.InvalidateSubtree("/x"); // as expiry would, without a race with the clock
        Assert.That(record.TryLastFetch("/x", "v", out var kept, out cached) && !cached && kept == first, Is.True, "no longer cached, still known");
        await cache.GetTextAsync("/x", "v");
        Assert.That(record.TryLastFetch("/x", "v", out var second, out cached) && cached && second == new ValueFetch(1, 2), Is.True);
    }

    [Test]
    public async Task AListingShowsItsOwnGenerationWhileCachedAndTheNextOnceDropped()
    {
        await using var rig = await Start(TimeSpan.FromSeconds(30), Listing);
        var (cache, record) = (rig.Cache, rig.Record);
        Assert.That(record.ListingGeneration("/x"), Is.Zero, "never listed: the first listing's");
        await cache.ListAsync("/x");
        Assert.That(record.ListingGeneration("/x"), Is.Zero);
        cache.InvalidateSubtree("/x"); // as expiry would, without a race with the clock
        Assert.That(record.ListingGeneration("/x"), Is.EqualTo(1), "no longer cached: the next listing's");
        await cache.ListAsync("/x");
        Assert.That(record.ListingGeneration("/x"), Is.EqualTo(1), "the new listing's own");
    }

    [Test]
    public async Task AValueThatCameWithItsListingCountsAsItsFirstFetch()
    {
        await using var rig = await Start(TimeSpan.FromSeconds(30), r => r.Execute == "qom-list-get"
            ? """{"return": [{"properties": [{"name": "kid", "type": "child<k>", "value": "/x/kid"}, {"name": "n", "type": "int", "value": 7}, {"name": "bad", "type": "str"}]}], "id": ID}"""
            : """{"error": {"class": "GenericError", "desc": "Property 'x.bad' is not readable"}, "id": ID}""", major: 10, minor: 1);
        var (cache, record) = (rig.Cache, rig.Record);
        await cache.ListAsync("/x");
        await cache.GetTextAsync("/x", "n");
        Assert.That(record.TryLastFetch("/x", "n", out var fetch, out var cached) && cached && fetch == new ValueFetch(0, 2), Is.True);
        Assert.That(record.TryLastFetch("/x", "kid", out _, out _), Is.False, "a child's value is a path nobody reads");
        Assert.ThrowsAsync<QmpCommandException>(() => cache.GetTextAsync("/x", "bad"));
        Assert.That(record.TryLastFetch("/x", "bad", out _, out _), Is.False, "a refusal is no value");
    }

    [Test]
    public async Task NothingIsRecordedWhileTheCacheIsOff()
    {
        await using var rig = await Start(TimeSpan.Zero, Listing);
        var (cache, record) = (rig.Cache, rig.Record);
        await cache.ListAsync("/x");
        await cache.GetTextAsync("/x", "v");
        Assert.That(record.TryLastFetch("/x", "v", out _, out _), Is.False);
        Assert.That(record.ListingGeneration("/x"), Is.Zero);
    }
}
