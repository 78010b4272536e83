using QomFs.Qmp;

namespace QomFs.Qom;

/// <summary>
/// Guesses the command that a walk of the tree sends next, and has QMP send it ahead
/// (<see cref="QmpClient.Anticipate"/>) while the walker still reads the reply before it. QEMU reads a request one
/// byte per main-loop iteration, so the bytes it has read by the time the walker asks are bytes the walk does not
/// wait for; QEMU runs the command only when it is asked for, and a wrong guess costs one refused request.
/// The walks guessed are the common ones: depth first, each object's properties in listing order (find, grep -r,
/// cp -r, du); the next listing is that of the first object after the one just listed that is not cached, and the
/// next value read that of the next property in that order (cat of what find printed). A guess goes out only
/// while the walk keeps to the guesses: the fetch before it was the one guessed.
/// </summary>
sealed class WalkAhead(QomCache cache)
{
    // The most objects a guess looks at: a walk's next object is near the one before it.
    const int Budget = 256;

    readonly Lock _gate = new();
    // Under _gate: the last guess (Name null for a listing), and whether the fetch after it was that one.
    (string Path, string? Name)? _guess;
    bool _walking;

    /// <summary>A listing (name null) or a value is about to be fetched.</summary>
    public void Fetching(string path, string? name)
    {
        lock (_gate) _walking = _guess == (path, name);
    }

    /// <summary>An object's listing was fetched, not yet cached: the walk's next listing is guessed.</summary>
    public void Listed(string path, QomListing listing)
    {
        if (Guessed(Next(path, listing, null, wantListing: true)) is { } next) cache.Qom.AnticipateListing(next.Path);
    }

    /// <summary>A value was fetched: the walk's next value is guessed, where its object's listing is cached.</summary>
    public void Read(string path, string name)
    {
        var next = cache.TryGetCachedListing(path, out var listing) ? Next(path, listing, name, wantListing: false) : null;
        if (Guessed(next) is { } n) cache.Qom.AnticipateGet(n.Path, n.Name!);
    }

    // Records the guess; returns it when it is to go out.
    (string Path, string? Name)? Guessed((string Path, string? Name)? guess)
    {
        lock (_gate)
        {
            _guess = guess;
            return _walking ? guess : null;
        }
    }

    (string Path, string? Name)? Next(string path, QomListing listing, string? after, bool wantListing)
    {
        var budget = Budget;
        // Within the object first, then in what follows it in each ancestor, as long as their listings are cached.
        while (true)
        {
            switch (Within(path, listing, after, wantListing, ref budget))
            {
                case ({ } found, _): return found;
                case (null, true): return null;
            }
            if (path == QomPath.Root) return null;
            after = QomPath.Name(path);
            path = QomPath.Parent(path);
            if (!cache.TryGetCachedListing(path, out listing!)) return null;
        }
    }

    // The first property after `after` in pre-order under `path` that is neither cached nor being fetched; Stop when
    // the walk cannot be followed further (a listing being fetched, an object not listed, the budget spent).
    ((string Path, string? Name)? Found, bool Stop) Within(string path, QomListing listing, string? after, bool wantListing, ref int budget)
    {
        var properties = listing.Properties;
        // An `after` that is not there (gone since) starts at the end: nothing after it is known.
        for (var i = after is null ? 0 : (listing.IndexOf(after) is >= 0 and var at ? at + 1 : properties.Length); i < properties.Length; i++)
        {
            var p = properties[i];
            switch (p.Kind)
            {
                case QomPropertyKind.Link: continue;
                case QomPropertyKind.Value:
                    if (wantListing) continue;
                    switch (cache.ValueState(path, p.Name))
                    {
                        case QomCache.Fetch.None: return ((path, p.Name), false);
                        case QomCache.Fetch.InFlight: return (null, true);
                    }
                    continue;
            }
            if (--budget < 0) return (null, true);
            var child = QomPath.Combine(path, p.Name);
            switch (cache.ListingState(child, out var childListing))
            {
                case QomCache.Fetch.None: return wantListing ? ((child, null), false) : (null, true);
                case QomCache.Fetch.InFlight: return (null, true);
            }
            if (childListing is null) continue; // QEMU refused it: no directory to walk into
            var below = Within(child, childListing, null, wantListing, ref budget);
            if (below.Found is not null || below.Stop) return below;
        }
        return (null, false);
    }
}
