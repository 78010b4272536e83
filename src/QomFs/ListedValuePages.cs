using System.Collections.Concurrent;
using QomFs.Fuse;
using QomFs.Qom;
using QomFs.Threading;

namespace QomFs;

/// <summary>
/// Where a listing brings every value (qom-list-get, QEMU 10.1+), the values a directory's listing brought go into
/// the kernel's page cache (<see cref="FuseMount.Store"/>) once the kernel has the directory's files: when it asks
/// for the listing's end (it has parsed the entries before), or at the first read of one of them (a path looked up
/// without a listing). Reading them then needs no READ at all: a cold `grep -r` or dump of an object costs no READ
/// round trip. It sends QEMU nothing, and stores only values cached and fresh, with the
/// size the kernel was shown; their pages go when the kernel drops them on an attribute refresh, as read pages do.
/// Stores run on a thread of their own: the kernel may make one wait for a read in flight of the same file, which
/// a FUSE worker answers, so a worker must never wait for a store.
/// </summary>
sealed class ListedValuePages : IDisposable
{
    readonly QomCache _cache;
    readonly FetchRecord _fetches;
    readonly Func<IFuseNotifier?> _mount;
    // Directories whose values are to be stored, in the order they came; bounded, extra ones are dropped.
    readonly WaitingQueue<(string Directory, string? Except)> _queue = new(capacity: 256);
    // Each directory's listing generation whose values went to the kernel, so that a listing is stored once.
    readonly ConcurrentDictionary<string, int> _stored = new(StringComparer.Ordinal);
    readonly Thread _thread;

    public ListedValuePages(QomCache cache, FetchRecord fetches, Func<IFuseNotifier?> mount)
    {
        _cache = cache;
        _fetches = fetches;
        _mount = mount;
        _thread = new Thread(Run) { IsBackground = true, Name = "qomfs page store" };
        _thread.Start();
    }

    /// <summary>The kernel read <paramref name="file"/> through its page cache: store its siblings' values, once per listing.</summary>
    public void Read(QomEntry file) => Store(file.Owner, except: file.Name);

    /// <summary>The kernel has every entry of <paramref name="directory"/>'s listing: store their values, once per listing.</summary>
    public void Listed(string directory) => Store(directory, except: null);

    void Store(string directory, string? except)
    {
        if (!_cache.TryGetCachedListing(directory, out var listing) || listing.Described) return;
        var generation = _fetches.ListingGeneration(directory);
        if (_stored.TryGetValue(directory, out var stored) && stored == generation) return;
        _stored[directory] = generation;
        _queue.TryAdd((directory, except));
    }

    void Run()
    {
        foreach (var (directory, except) in _queue.TakeEach())
        {
            if (_mount() is not { } mount || !_cache.TryGetCachedListing(directory, out var listing)) continue;
            foreach (var p in listing.Properties)
            {
                if (p.Kind is QomPropertyKind.Child or QomPropertyKind.Link || p.Name == except) continue;
                // Only with the length the kernel was shown: other data would be of no use to it.
                if (!_cache.TryGetCachedText(directory, p.Name, out var text)
                    || !_fetches.TryLastFetch(directory, p.Name, out var last, out _) || last.Length != text.Length) continue;
                mount.Store(QomPath.Combine(directory, p.Name), text);
            }
        }
    }

    /// <summary>Ends the thread; at unmount, when the mount refuses stores anyway.</summary>
    public void Dispose()
    {
        _queue.Complete(discard: true);
        _thread.Join(TimeSpan.FromSeconds(5));
    }
}
