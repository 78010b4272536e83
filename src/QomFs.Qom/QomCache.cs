using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using BitFaster.Caching;
using BitFaster.Caching.Lru;
using QomFs.Qmp;

namespace QomFs.Qom;

/// <summary>An object's properties by name, as qom-list (or qom-list-get) gave them.</summary>
public sealed class QomListing(QomProperty[] properties, bool described = true)
{
    readonly Dictionary<string, int> _byName = properties.Select((p, i) => (p.Name, i)).ToDictionary(e => e.Name, e => e.i, StringComparer.Ordinal);

    public QomProperty[] Properties { get; } = properties;
    /// <summary>False when the listing came from qom-list-get, which gives no descriptions or default values.</summary>
    public bool Described { get; } = described;
    public QomProperty? Find(string name) => _byName.TryGetValue(name, out var i) ? Properties[i] : null;
    /// <summary>Where a property is in <see cref="Properties"/>, or -1.</summary>
    public int IndexOf(string name) => _byName.GetValueOrDefault(name, -1);
}

/// <summary>
/// A small bounded cache of listings and value texts in front of QMP: an LRU of at most <c>capacity</c> entries
/// each, every entry fresh for <c>ttl</c>. A TTL of zero turns it off. Concurrent misses for one key share one
/// QMP command. QEMU's refusals (an unreadable property, a missing object) are kept like values, so a warm
/// pass costs no QMP traffic; timeouts and lost connections are not kept.
/// Where QEMU has qom-list-get (10.1+), a listing is one qom-list-get, and the values it brings for the same one
/// command are cached with it: reading every file of a listed object then costs no further command.
/// </summary>
public sealed class QomCache
{
    readonly QomClient _qom;
    readonly ICache<string, Shared<QomListing>>? _listings;
    readonly ICache<(string Path, string Name), Shared<byte[]>>? _values;
    // qom-list's listings where the listings above come from qom-list-get, for what only qom-list tells.
    readonly ICache<string, Shared<QomListing>>? _described;
    // With the cache on (and so with the values cache: the walk's listings are the value-bringing ones).
    readonly WalkAhead? _walk;

    public QomCache(QomClient qom, TimeSpan ttl, int capacity = 4096)
    {
        _qom = qom;
        Ttl = ttl;
        if (ttl <= TimeSpan.Zero) return;
        _listings = new ConcurrentLruBuilder<string, Shared<QomListing>>().WithCapacity(capacity).WithExpireAfterWrite(ttl).Build();
        _values = new ConcurrentLruBuilder<(string Path, string Name), Shared<byte[]>>().WithCapacity(capacity).WithExpireAfterWrite(ttl).Build();
        _described = new ConcurrentLruBuilder<string, Shared<QomListing>>().WithCapacity(64).WithExpireAfterWrite(ttl).Build();
        _walk = new WalkAhead(this);
    }

    public TimeSpan Ttl { get; }
    public QomClient Qom => _qom;

    /// <summary>
    /// A listing was fetched to be cached (raised just before it is, on the thread that fetched it). Only while
    /// the cache is on.
    /// </summary>
    public event Action<string>? ListingFetched;

    /// <summary>
    /// A value was fetched to be cached: by its own qom-get, or with its object's listing. Only while the cache is on.
    /// </summary>
    public event Action<string, string, byte[]>? ValueFetched;

    /// <summary>The listing of an object.</summary>
    /// <exception cref="QmpCommandException">DeviceNotFound when there is no such object.</exception>
    public Task<QomListing> ListAsync(string path) =>
        GetShared(_listings, path, async p =>
        {
            _walk?.Fetching(p, null);
            var listing = await FetchListingAsync(p);
            if (_listings is not null) ListingFetched?.Invoke(p);
            return listing;
        });

    async Task<QomListing> FetchListingAsync(string path)
    {
        // Without a cache the values would be thrown away: qom-list then.
        QomListing listing;
        if (_values is null || await _qom.ListGetAsync([path]) is not [var fetched])
        {
            listing = new QomListing(await _qom.ListAsync(path));
            _walk?.Listed(path, listing);
            return listing;
        }
        var properties = new QomProperty[fetched.Properties.Length];
        for (var i = 0; i < properties.Length; i++)
            properties[i] = new QomProperty { Name = fetched.Properties[i].Name, Type = fetched.Properties[i].Type };
        listing = new QomListing(properties, described: false);
        // First, so that QEMU reads the guess while the rest is done.
        _walk?.Listed(path, listing);
        for (var i = 0; i < properties.Length; i++)
        {
            // An unreadable value comes without one: its qom-get tells why, when it is read.
            if (fetched.Properties[i].Value is { } value && properties[i].Kind != QomPropertyKind.Child)
                Store((path, properties[i].Name), ValueCodec.Format(JsonMarshal.GetRawUtf8Value(value)));
        }
        return listing;
    }

    /// <summary>
    /// A property as qom-list describes it, with its description and default value; null if the object has no
    /// such property. Costs a qom-list only where listings come from qom-list-get.
    /// </summary>
    public async Task<QomProperty?> DescribeAsync(string path, string name)
    {
        var listing = await ListAsync(path);
        if (!listing.Described)
            listing = await GetShared(_described, path, async p => new QomListing(await _qom.ListAsync(p)));
        return listing.Find(name);
    }

    /// <summary>Whether an object's listing is cached, fetched and fresh. No QMP traffic.</summary>
    public bool IsListingCached(string path) => TryGetCachedListing(path, out _);

    /// <summary>An object's listing if it is cached, fetched and fresh. No QMP traffic.</summary>
    public bool TryGetCachedListing(string path, [NotNullWhen(true)] out QomListing? listing) => TryGetDone(_listings, path, out listing);

    /// <summary>A property's value as the codec's text (UTF-8, with its newline).</summary>
    public Task<byte[]> GetTextAsync(string path, string name) =>
        GetShared(_values, (path, name), async k =>
        {
            _walk?.Fetching(k.Item1, k.Item2);
            QmpResult result;
            try { result = await _qom.GetAsync(k.Item1, k.Item2); }
            finally { _walk?.Read(k.Item1, k.Item2); }
            var text = ValueCodec.Format(result.Json.Span);
            if (_values is not null) ValueFetched?.Invoke(k.Item1, k.Item2, text);
            return text;
        });

    // A value that came with a listing: cached as if its own qom-get had fetched it.
    void Store((string Path, string Name) key, byte[] text)
    {
        _values!.AddOrUpdate(key, new Shared<byte[]>(Task.FromResult(text)));
        ValueFetched?.Invoke(key.Path, key.Name, text);
    }

    /// <summary>
    /// The fetch of a value in flight, if there is one: a caller can wait for the length it will give rather than
    /// report the one before it. Sends nothing.
    /// </summary>
    public bool TryGetFetchInFlight(string path, string name, out Task fetch)
    {
        fetch = Task.CompletedTask;
        if (_values is null || !_values.TryGet((path, name), out var entry) || entry.Task.IsCompleted) return false;
        fetch = entry.Task;
        return true;
    }

    /// <summary>Whether a property's value is cached, fetched and fresh (not a refusal). No QMP traffic.</summary>
    public bool IsValueCached(string path, string name) => TryGetCachedText(path, name, out _);

    /// <summary>A property's value text if it is cached, fetched and fresh (not a refusal). No QMP traffic.</summary>
    public bool TryGetCachedText(string path, string name, [NotNullWhen(true)] out byte[]? text) => TryGetDone(_values, (path, name), out text);

    internal enum Fetch { None, InFlight, Done }

    /// <summary>Whether an object's listing is cached, being fetched, or neither. No QMP traffic.</summary>
    internal Fetch ListingState(string path, out QomListing? listing) => State(_listings, path, out listing);

    /// <summary>Whether a value (or its refusal) is cached, being fetched, or neither. No QMP traffic.</summary>
    internal Fetch ValueState(string path, string name) => State(_values, (path, name), out _);

    static Fetch State<TKey, T>(ICache<TKey, Shared<T>>? cache, TKey key, out T? value) where TKey : notnull
    {
        value = default;
        if (cache is null || !cache.TryGet(key, out var entry)) return Fetch.None;
        if (!entry.Task.IsCompleted) return Fetch.InFlight;
        if (entry.Task.IsCompletedSuccessfully) value = entry.Task.Result;
        return Fetch.Done;
    }

    // Fetched, and not refused (a refusal is Done without a value).
    static bool TryGetDone<TKey, T>(ICache<TKey, Shared<T>>? cache, TKey key, [NotNullWhen(true)] out T? value) where TKey : notnull =>
        State(cache, key, out value) == Fetch.Done && value is not null;

    /// <summary>Converts text with the property's type and sets it; the cached value is dropped.</summary>
    /// <exception cref="QomValueException">the text does not fit the type; nothing was sent.</exception>
    public async Task SetTextAsync(string path, QomProperty property, ReadOnlyMemory<byte> text)
    {
        var json = ValueCodec.Parse(text.Span, property.Type, property.Name);
        try { await _qom.SetAsync(path, property.Name, json); }
        finally { InvalidateValue(path, property.Name); }
    }

    /// <summary>Forgets one property's value: something else set it.</summary>
    public void InvalidateValue(string path, string name) => _values?.TryRemove((path, name));

    /// <summary>Forgets an object, everything below it and its parent's listing: it came or went.</summary>
    public void InvalidateSubtree(string path)
    {
        if (_listings is null || _values is null) return;
        var prefix = path.TrimEnd('/') + "/";
        _listings.TryRemove(QomPath.Parent(path));
        foreach (var key in _listings.Keys.Where(k => k == path || k.StartsWith(prefix, StringComparison.Ordinal)).ToArray())
            _listings.TryRemove(key);
        foreach (var key in _values.Keys.Where(k => k.Path == path || k.Path.StartsWith(prefix, StringComparison.Ordinal)).ToArray())
            _values.TryRemove(key);
        _described!.Clear(); // small, and only for extended attributes
    }

    public void Clear()
    {
        _listings?.Clear();
        _values?.Clear();
        _described?.Clear();
    }

    static async Task<T> GetShared<TKey, T>(ICache<TKey, Shared<T>>? cache, TKey key, Func<TKey, Task<T>> fetch) where TKey : notnull
    {
        if (cache is null) return await fetch(key);
        var entry = cache.GetOrAdd(key, static (k, f) => new Shared<T>(f(k)), fetch);
        try
        {
            return await entry.Task;
        }
        catch (Exception e) when (e is not QmpCommandException)
        {
            // A lost connection or a timeout says nothing about the value: ask again next time.
            cache.TryRemove(new KeyValuePair<TKey, Shared<T>>(key, entry));
            throw;
        }
    }

    /// <summary>
    /// A command in flight or done, shared by every caller of one key. Not the Task itself: the cache disposes
    /// IDisposable values it evicts, and disposing a Task still in flight (its TTL ran out first) throws.
    /// </summary>
    sealed class Shared<T>(Task<T> task)
    {
        public Task<T> Task { get; } = task;
    }
}
