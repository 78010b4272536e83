using System.Collections.Concurrent;
using System.Text;
using QomFs.Fuse;
using QomFs.Qom;
using QomFs.Threading;

namespace QomFs;

/// <summary>
/// Reads of files and links. With a cache TTL the kernel's page cache serves repeated reads and files are never
/// opened; without one every file is opened with direct I/O and reads a snapshot of its value of its own.
/// A value already cached is copied at once; one that needs a qom-get is answered by the QMP reader thread when
/// the reply comes (see <see cref="InlineContinuations"/>), so the FUSE worker is free at once and a cold read
/// costs one thread wake-up fewer.
/// </summary>
/// <param name="invalidateAttributes">tells the kernel to ask for a file's attributes again.</param>
/// <param name="pages">with a TTL, what stores a read file's siblings in the kernel's page cache.</param>
sealed class FileReads(QomCache cache, FetchRecord fetches, EntryResolver entries, FailureLog failures, Action<string> invalidateAttributes,
    ListedValuePages? pages)
{
    /// <summary>True when the kernel's page cache serves reads (a TTL); false for direct I/O.</summary>
    public bool PageCache { get; } = cache.Ttl > TimeSpan.Zero;

    // Direct I/O: each open file's snapshot of its value (fresh at offset 0), so a value read in several
    // chunks is never torn.
    readonly ConcurrentDictionary<ulong, byte[]> _snapshots = new();
    long _nextHandle;
    // Page cache: values longer than the kernel asked for at offset 0, so that later pages come from the same value,
    // as long as that value is the cache's (not expired, set or invalidated since).
    readonly ConcurrentDictionary<string, (QomEntry Entry, byte[] Text)> _longValues = new(StringComparer.Ordinal);

    /// <summary>Direct I/O: a new open file, with no snapshot yet.</summary>
    public ulong Open()
    {
        var handle = (ulong)Interlocked.Increment(ref _nextHandle);
        _snapshots[handle] = [];
        return handle;
    }

    public void Release(ulong handle) => _snapshots.TryRemove(handle, out _);

    /// <summary>Reads the file at <paramref name="path"/>; <paramref name="handle"/> is its open file's, with direct I/O.</summary>
    public ValueTask<int> ReadAsync(string path, ulong offset, Memory<byte> buffer, ulong handle) =>
        PageCache ? PageRead(path, offset, buffer) : DirectRead(path, offset, buffer, handle);

    /// <summary>Where a link points: relative within the mount, or <see cref="QomFileSystem.UnsetLinkTarget"/>.</summary>
    public string LinkTarget(QomEntry link)
    {
        var text = Encoding.UTF8.GetString(FuseWorker.Run(() => cache.GetTextAsync(link.Owner, link.Name), ErrnoMapping.ForRead)).TrimEnd('\n');
        return text.Length == 0 ? QomFileSystem.UnsetLinkTarget
            : text.StartsWith('/') ? QomPath.RelativeTarget(link.Owner, text)
            : text;
    }

    ValueTask<int> PageRead(string path, ulong offset, Memory<byte> buffer)
    {
        // Later pages of a long value come from the value its first page came from, while the cache still holds it.
        if (offset != 0 && _longValues.TryGetValue(path, out var first))
        {
            if (cache.TryGetCachedText(first.Entry.Owner, first.Entry.Name, out var current) && ReferenceEquals(current, first.Text))
                return new(Copy(first.Text, offset, buffer.Span));
            _longValues.TryRemove(KeyValuePair.Create(path, first));
        }
        var entry = entries.ResolveFile(path);
        pages?.Read(entry);
        return new(InlineContinuations.Run(() => PageReadAsync(entry, offset, buffer)));
    }

    ValueTask<int> DirectRead(string path, ulong offset, Memory<byte> buffer, ulong handle)
    {
        // An open file reads one snapshot of its value, fetched afresh at offset 0.
        if (!_snapshots.TryGetValue(handle, out var snapshot)) throw new FuseException(Errno.EBADF);
        if (offset != 0 && snapshot.Length != 0) return new(Copy(snapshot, offset, buffer.Span));
        var entry = entries.ResolveFile(path);
        return new(InlineContinuations.Run(() => SnapshotAsync(entry, offset, buffer, handle, snapshot)));
    }

    // The rest of these two runs on the thread that receives the value: nothing after the fetch may wait for QMP.

    async Task<int> SnapshotAsync(QomEntry entry, ulong offset, Memory<byte> buffer, ulong handle, byte[] previous)
    {
        var text = await FetchAsync(entry);
        _snapshots.TryUpdate(handle, text, previous); // not if the file was closed meanwhile
        return Copy(text, offset, buffer.Span);
    }

    async Task<int> PageReadAsync(QomEntry entry, ulong offset, Memory<byte> buffer)
    {
        // The size the kernel may have: the last value's length, or one page if none was read yet.
        var believed = fetches.TryLastFetch(entry.Owner, entry.Name, out var last, out _) ? last.Length : QomFileSystem.UnreadSize;
        var text = await FetchAsync(entry);
        if (text.Length > (long)offset + buffer.Length) _longValues[entry.Path] = (entry, text);
        else _longValues.TryRemove(entry.Path, out _);
        // A value longer than that would end early: make the kernel ask for the attributes again, which now give
        // the value's length, before it reads on.
        if (text.Length > Math.Min(believed, (long)offset + buffer.Length)) invalidateAttributes(entry.Path);
        return Copy(text, offset, buffer.Span);
    }

    async Task<byte[]> FetchAsync(QomEntry entry)
    {
        try { return await cache.GetTextAsync(entry.Owner, entry.Name); }
        catch (Exception e) when (e is not FuseException) { throw new FuseException(failures.Read(entry.Path, e), e.Message, e); }
    }

    static int Copy(byte[] text, ulong offset, Span<byte> buffer)
    {
        if (offset >= (ulong)text.Length) return 0;
        var n = Math.Min(buffer.Length, text.Length - (int)offset);
        text.AsSpan((int)offset, n).CopyTo(buffer);
        return n;
    }
}
