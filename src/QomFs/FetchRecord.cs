using System.Collections.Concurrent;
using QomFs.Qom;

namespace QomFs;

/// <summary>
/// What the cache fetched, kept after it expires: each value's latest fetch and each object's latest listing,
/// numbered. Attributes come from it (<see cref="EntryStat"/>): a file's size and modification time, and a
/// directory's modification time, must change when what the kernel cached from them may have. Bounded by the
/// properties ever read and the objects ever listed. Records nothing while the cache is off.
/// </summary>
sealed class FetchRecord
{
    readonly QomCache _cache;
    readonly ConcurrentDictionary<(string Path, string Name), ValueFetch> _values = new();
    readonly ConcurrentDictionary<string, int> _listings = new(StringComparer.Ordinal);

    public FetchRecord(QomCache cache)
    {
        _cache = cache;
        cache.ListingFetched += path => _listings.AddOrUpdate(path, 0, (_, g) => g + 1);
        cache.ValueFetched += (path, name, text) =>
            _values.AddOrUpdate((path, name), new ValueFetch(0, text.Length), (_, f) => new ValueFetch(f.Generation + 1, text.Length));
    }

    /// <summary>
    /// The generation of the listing <see cref="QomCache.ListAsync"/> gives for <paramref name="path"/> now: 0 for
    /// an object's first listing, one more for each fetch after it. While a listing is cached that is its own;
    /// otherwise the generation the next fetch will have. No QMP traffic.
    /// </summary>
    public int ListingGeneration(string path)
    {
        if (!_listings.TryGetValue(path, out var generation)) return 0;
        return _cache.IsListingCached(path) ? generation : generation + 1;
    }

    /// <summary>
    /// The latest fetch of a value, whether or not it is still cached (<paramref name="cached"/> says which); false
    /// if the value was never fetched with the cache on. No QMP traffic.
    /// </summary>
    public bool TryLastFetch(string path, string name, out ValueFetch fetch, out bool cached)
    {
        cached = false;
        if (!_values.TryGetValue((path, name), out fetch)) return false;
        cached = _cache.IsValueCached(path, name);
        return true;
    }
}

/// <summary>A value's latest fetch: its generation (0 for the property's first fetch, then 1, 2...) and its text's length.</summary>
readonly record struct ValueFetch(int Generation, int Length);
