using System.Text;
using QomFs.Fuse;
using QomFs.Qom;
using QomFs.Threading;

namespace QomFs;

/// <summary>
/// The QOM tree as files: objects are directories, <c>child&lt;&gt;</c> properties subdirectories, <c>link&lt;&gt;</c>
/// properties symlinks, every other property a file whose text is the codec's. The only class that knows both
/// FUSE and QOM: it turns each FUSE call into a call of the part that does it (<see cref="EntryResolver"/>,
/// <see cref="EntryStat"/>, <see cref="FileReads"/>, <see cref="HeldWrites"/>, <see cref="ExtendedAttributes"/>).
/// Values are fetched only when a file is read: listings and attributes never cost a qom-get.
/// (Where QEMU has qom-list-get, a listing brings its values for the same one command; see <see cref="QomCache"/>.)
/// </summary>
/// <remarks>
/// With a cache TTL the kernel serves repeated reads itself. Open answers ENOSYS, which tells the kernel that
/// files need no OPEN or RELEASE at all, and keeps their pages (with .events shown, Open must answer, and keeps no
/// state); an unread value shows the size of one page, as
/// in sysfs, and a read trims it to the value's length (a short read is end of file). The kernel keeps those
/// pages only while the attributes it has are fresh (the TTL): every fetch of a value shows a
/// modification time of its own, so an attribute refresh after a refetch drops the stale pages. Without a
/// cache (TTL 0) files are opened with direct I/O and every read(2) reaches QEMU.
/// Directories work the same way with a TTL: OpenDir answers ENOSYS, so the kernel sends no OPENDIR or
/// RELEASEDIR and keeps each listing it reads until the directory's modification time changes. That time is
/// the generation of our listing of it (<see cref="FetchRecord.ListingGeneration"/>): once ours expires, the next
/// attribute refresh shows the generation a new qom-list will have, and the kernel reads the directory again.
/// </remarks>
public sealed class QomFileSystem : IFuseFileSystem
{
    /// <summary>What an unset link points to: a name that exists nowhere, so it dangles visibly.</summary>
    public const string UnsetLinkTarget = "<unset>";

    /// <summary>The size of a file whose value is not cached: an upper bound for the kernel, like sysfs's page.</summary>
    public const int UnreadSize = 4096;

    /// <summary>st_blksize of a file: stdio buffers this much, so a value up to it goes out in one write(2).</summary>
    public const int WriteBlockSize = 64 * 1024;

    const int O_APPEND = 0x400;

    readonly QomCache _cache;
    readonly QomFsOptions _options;
    readonly EntryResolver _entries;
    readonly EntryStat _stat;
    readonly FileReads _reads;
    readonly ListedValuePages? _pages;
    readonly HeldWrites _writes;
    readonly ExtendedAttributes _xattrs;
    readonly ConnectionEntries _connection;

    /// <param name="connection">what the root shows beside QOM's root: <c>.events</c>, <c>.qmp.sock</c>.</param>
    public QomFileSystem(QomCache cache, QomFsOptions options, DaemonLog log, ConnectionEntries connection)
    {
        _cache = cache;
        _options = options;
        _connection = connection;
        var failures = new FailureLog(log);
        var fetches = new FetchRecord(cache);
        _entries = new EntryResolver(cache);
        _stat = new EntryStat(cache, fetches, options);
        _pages = cache.Ttl > TimeSpan.Zero ? new ListedValuePages(cache, fetches, () => Mount) : null;
        _reads = new FileReads(cache, fetches, _entries, failures, path => Mount?.Invalidate(path, attributesOnly: true), _pages);
        _writes = new HeldWrites((entry, value) => cache.SetTextAsync(entry.Owner, entry.Property!, value), failures,
            options.MaxWriteBytes, TimeProvider.System, path => Mount?.Invalidate(path));
        _xattrs = new ExtendedAttributes(cache);
    }

    /// <summary>The mount, for telling the kernel to drop what it cached; set once the file system is mounted.</summary>
    public IFuseNotifier? Mount { get; set; }

    // A name of the connection's own at the root, or null.
    string? Own(ReadOnlySpan<byte> path)
    {
        if (path.Length < 2 || path[1] != (byte)'.' || path[1..].IndexOf((byte)'/') >= 0) return null;
        var name = FusePath.GetString(path)[1..];
        return _connection.Has(name) ? name : null;
    }

    public int GetAttr(ReadOnlySpan<byte> path, ref FuseStat stat, FuseFileInfoRef fi)
    {
        if (Own(path) is { } own)
        {
            _connection.Stat(own, ref stat, _options.Uid, _options.Gid, _options.MountTime, fi.IsNull ? null : fi.Value.FileHandle);
            return 0;
        }
        _stat.Fill(_entries.Resolve(FusePath.GetString(path)), ref stat);
        return 0;
    }

    public bool HasVolatileAttributes(ReadOnlySpan<byte> path) => ConnectionEntries.IsEvents(path);

    public int ReadDir(ReadOnlySpan<byte> path, ref FuseDirectoryFiller filler, ulong offset, FuseReadDirFlags flags, FuseFileInfoRef fi)
    {
        var entry = _entries.Resolve(FusePath.GetString(path));
        if (entry.Kind != QomEntryKind.Directory) return -Errno.ENOTDIR;
        var listing = FuseWorker.Run(() => _cache.ListAsync(entry.Path), ErrnoMapping.ForRead);
        var stat = default(FuseStat);
        _stat.Fill(entry, ref stat);
        if (!filler.Add(".", stat) || !filler.Add("..")) return 0;
        foreach (var p in listing.Properties)
        {
            stat = default;
            _stat.Fill(QomEntry.Of(QomPath.Combine(entry.Path, p.Name), p), ref stat);
            if (!filler.Add(p.Name, stat)) return 0;
        }
        // Asked for what follows every property: the kernel has made the nodes of all of them.
        if (offset >= (ulong)listing.Properties.Length + 2) _pages?.Listed(entry.Path);
        if (entry.Path != QomPath.Root) return 0;
        // By name only: the kernel looks them up when they are used, which gives .events its attributes for no time.
        foreach (var name in _connection.Names)
            if (!filler.Add(name)) break;
        return 0;
    }

    public int ReadLink(ReadOnlySpan<byte> path, Span<byte> buffer)
    {
        string target;
        if (Own(path) is { } own) target = _connection.LinkTarget(own);
        else
        {
            var entry = _entries.Resolve(FusePath.GetString(path));
            if (entry.Kind != QomEntryKind.Link) return -Errno.EINVAL;
            target = _reads.LinkTarget(entry);
        }
        var bytes = Encoding.UTF8.GetBytes(target);
        var n = Math.Min(bytes.Length, buffer.Length - 1);
        bytes.AsSpan(0, n).CopyTo(buffer);
        buffer[n] = 0;
        return 0;
    }

    public int Open(ReadOnlySpan<byte> path, ref FuseFileInfo fi)
    {
        if (Own(path) is { } own) return _connection.Open(own, ref fi);
        var entry = _entries.Resolve(FusePath.GetString(path));
        if (entry.Kind != QomEntryKind.File) return entry.Kind == QomEntryKind.Directory ? -Errno.EISDIR : -Errno.EINVAL;
        if (_options.ReadOnly && fi.AccessMode != 0) return -Errno.EROFS;
        // No OPEN, RELEASE or per-open state from now on, for every file: see the remarks above. Not with .events,
        // which must be opened for direct reads: the kernel's "no open" holds for every file of the mount at once.
        if (_reads.PageCache && !_connection.StreamsEvents) return -Errno.ENOSYS;
        if (_reads.PageCache)
        {
            fi.KeepCache = true;
            return 0;
        }
        fi.FileHandle = _reads.Open();
        fi.DirectIo = true;
        fi.NoFlush = true; // a write sets its value when it is made; close has nothing left to do
        return 0;
    }

    public ValueTask<int> ReadAsync(ReadOnlySpan<byte> path, ulong offset, Memory<byte> buffer, FuseFileInfo fi) =>
        Own(path) is not null ? _connection.ReadAsync(fi.FileHandle, offset, buffer) : _reads.ReadAsync(FusePath.GetString(path), offset, buffer, fi.FileHandle);

    public void ReadInterrupted(ulong fileHandle) => _connection.Interrupt(fileHandle);

    public int Write(ReadOnlySpan<byte> path, ulong offset, ReadOnlySpan<byte> data, ref FuseFileInfo fi) =>
        Own(path) is not null ? -Errno.EBADF : _writes.Write(_entries.ResolveFile(FusePath.GetString(path)), offset, data, append: (fi.Flags & O_APPEND) != 0);

    public int Truncate(ReadOnlySpan<byte> path, ulong length, FuseFileInfoRef fi)
    {
        if (_options.ReadOnly) return -Errno.EROFS;
        if (Own(path) is not null) return -Errno.EACCES;
        var name = FusePath.GetString(path);
        if (_entries.Resolve(name).Kind != QomEntryKind.File) return -Errno.EINVAL;
        // open(O_TRUNC) truncates before the writes of a new value; any other length means nothing for a value.
        if (length != 0) return -Errno.EINVAL;
        _writes.Truncated(name);
        return 0;
    }

    // With a TTL the kernel caches listings itself (see the remarks above); without, each opendir(2) reads afresh.
    public int OpenDir(ReadOnlySpan<byte> path, ref FuseFileInfo fi) => _reads.PageCache ? -Errno.ENOSYS : 0;

    // Close has nothing to do (see HeldWrites): ENOSYS spares every later close(2) the kernel's FLUSH round trip.
    public int Flush(ReadOnlySpan<byte> path, ref FuseFileInfo fi) => -Errno.ENOSYS;

    /// <summary>At unmount, sets what is still held.</summary>
    public void Destroy()
    {
        _pages?.Dispose();
        _writes.SetAll();
    }

    public int Release(ReadOnlySpan<byte> path, ref FuseFileInfo fi)
    {
        _connection.Release(fi.FileHandle);
        _reads.Release(fi.FileHandle);
        return 0;
    }

    // `touch` on a property file: nothing to store, but not an error.
    public int Utimens(ReadOnlySpan<byte> path, in FuseTimespec access, in FuseTimespec modification, FuseFileInfoRef fi)
    {
        if (Own(path) is not null) return _options.ReadOnly ? -Errno.EROFS : 0;
        _entries.Resolve(FusePath.GetString(path));
        return _options.ReadOnly ? -Errno.EROFS : 0;
    }

    public int Create(ReadOnlySpan<byte> path, uint mode, ref FuseFileInfo fi)
    {
        _entries.Resolve(QomPath.Parent(FusePath.GetString(path)));
        return _options.ReadOnly ? -Errno.EROFS : -Errno.EACCES;
    }

    public int GetXAttr(ReadOnlySpan<byte> path, ReadOnlySpan<byte> name, Span<byte> value) =>
        Own(path) is not null ? -Errno.ENODATA : _xattrs.Get(_entries.Resolve(FusePath.GetString(path)), Encoding.UTF8.GetString(name), value);

    public int ListXAttr(ReadOnlySpan<byte> path, Span<byte> list) =>
        Own(path) is not null ? 0 : _xattrs.List(_entries.Resolve(FusePath.GetString(path)), list);

    public int StatFs(ReadOnlySpan<byte> path, ref FuseStatVfs stat)
    {
        stat.BlockSize = 4096;
        stat.FragmentSize = 4096;
        stat.NameMax = 255;
        return 0;
    }
}
