using System.Collections.Concurrent;
using BitFaster.Caching.Lru;
using System.Text;
using QomFs.Fuse;
using QomFs.Qmp;
using QomFs.Qom;
using QomFs.Threading;

namespace QomFs;

/// <summary>
/// The QOM tree as files: objects are directories, <c>child&lt;&gt;</c> properties subdirectories, <c>link&lt;&gt;</c>
/// properties symlinks, every other property a file whose text is the codec's. The only class that knows both
/// FUSE and QOM. Values are fetched only when a file is read: listings and attributes never cost a qom-get.
/// (Where QEMU has qom-list-get, a listing brings its values for the same one command; see <see cref="QomCache"/>.)
/// </summary>
/// <remarks>
/// With a cache TTL the kernel serves repeated reads itself. Open answers ENOSYS, which tells the kernel that
/// files need no OPEN or RELEASE at all, and keeps their pages; an unread value shows the size of one page, as
/// in sysfs, and a read trims it to the value's length (a short read is end of file). The kernel keeps those
/// pages only while the attributes it has are fresh (the TTL): every fetch of a value shows a
/// modification time of its own, so an attribute refresh after a refetch drops the stale pages. Without a
/// cache (TTL 0) files are opened with direct I/O and every read(2) reaches QEMU.
/// Directories work the same way with a TTL: OpenDir answers ENOSYS, so the kernel sends no OPENDIR or
/// RELEASEDIR and keeps each listing it reads until the directory's modification time changes. That time is
/// the generation of our listing of it (<see cref="QomCache.ListingGeneration"/>): once ours expires, the next
/// attribute refresh shows the generation a new qom-list will have, and the kernel reads the directory again.
/// </remarks>
public sealed class QomFileSystem(QomCache cache, QomFsOptions options, DaemonLog log) : IFuseFileSystem
{
    /// <summary>What an unset link points to: a name that exists nowhere, so it dangles visibly.</summary>
    public const string UnsetLinkTarget = "<unset>";

    /// <summary>The size of a file whose value is not cached: an upper bound for the kernel, like sysfs's page.</summary>
    public const int UnreadSize = PageSize;

    /// <summary>st_blksize of a file: stdio buffers this much, so a value up to it goes out in one write(2).</summary>
    public const int WriteBlockSize = 64 * 1024;

    /// <summary>How long a held write waits for the write that continues it (see Write).</summary>
    public static readonly TimeSpan HoldTime = TimeSpan.FromMilliseconds(100);

    const int PageSize = 4096;
    const int O_APPEND = 0x400;

    readonly bool _pageCache = cache.Ttl > TimeSpan.Zero;
    // Direct I/O: each open file's snapshot of its value (fresh at offset 0), so a value read in several
    // chunks is never torn.
    readonly ConcurrentDictionary<ulong, byte[]> _snapshots = new();
    long _nextHandle;
    long _expiredReports;
    // Page cache: values longer than the kernel asked for at offset 0, so that later pages come from the same value.
    readonly ConcurrentDictionary<string, byte[]> _longValues = new(StringComparer.Ordinal);
    // Writes: values held for more (see Write), and what the last writes set, so that a write continuing where it
    // ended extends that value.
    readonly Lock _writeGate = new();
    readonly Dictionary<string, Held> _held = new(StringComparer.Ordinal);
    readonly ConcurrentLru<string, byte[]> _written = new(64);
    // The read failure last logged for each file. A refusal served from the cache comes back as the very same
    // exception, so `grep -r` every few seconds logs each refusal once per fetch, not once per read.
    readonly ConcurrentLru<string, Exception> _loggedReads = new(64);

    /// <summary>The mount, for telling the kernel to drop what it cached; set once the file system is mounted.</summary>
    public FuseMount? Mount { get; set; }

    public int GetAttr(ReadOnlySpan<byte> path, ref FuseStat stat, FuseFileInfoRef fi)
    {
        var node = Resolve(FusePath.GetString(path));
        Fill(node, ref stat);
        return 0;
    }

    public int ReadDir(ReadOnlySpan<byte> path, ref FuseDirectoryFiller filler, ulong offset, FuseReadDirFlags flags, FuseFileInfoRef fi)
    {
        var node = Resolve(FusePath.GetString(path));
        if (node.Kind != NodeKind.Directory) return -Errno.ENOTDIR;
        var listing = Run(() => cache.ListAsync(node.Path), ErrnoMapping.ForRead);
        var stat = default(FuseStat);
        Fill(node, ref stat);
        if (!filler.Add(".", stat) || !filler.Add("..")) return 0;
        foreach (var p in listing.Properties)
        {
            stat = default;
            Fill(Node.Of(QomPath.Combine(node.Path, p.Name), p), ref stat);
            if (!filler.Add(p.Name, stat)) break;
        }
        return 0;
    }

    public int ReadLink(ReadOnlySpan<byte> path, Span<byte> buffer)
    {
        var node = Resolve(FusePath.GetString(path));
        if (node.Kind != NodeKind.Link) return -Errno.EINVAL;
        var text = Encoding.UTF8.GetString(Run(() => cache.GetTextAsync(node.Owner, node.Name), ErrnoMapping.ForRead)).TrimEnd('\n');
        var target = text.Length == 0 ? UnsetLinkTarget
            : text.StartsWith('/') ? QomPath.RelativeTarget(node.Owner, text)
            : text;
        var bytes = Encoding.UTF8.GetBytes(target);
        var n = Math.Min(bytes.Length, buffer.Length - 1);
        bytes.AsSpan(0, n).CopyTo(buffer);
        buffer[n] = 0;
        return 0;
    }

    public int Open(ReadOnlySpan<byte> path, ref FuseFileInfo fi)
    {
        var node = Resolve(FusePath.GetString(path));
        if (node.Kind != NodeKind.File) return node.Kind == NodeKind.Directory ? -Errno.EISDIR : -Errno.EINVAL;
        if (options.ReadOnly && fi.AccessMode != 0) return -Errno.EROFS;
        // No OPEN, RELEASE or per-open state from now on, for every file: see the remarks above.
        if (_pageCache) return -Errno.ENOSYS;
        var handle = (ulong)Interlocked.Increment(ref _nextHandle);
        _snapshots[handle] = [];
        fi.FileHandle = handle;
        fi.DirectIo = true;
        fi.NoFlush = true; // a write sets its value when it is made; close has nothing left to do
        return 0;
    }

    /// <summary>
    /// Reads a file. A value already cached is copied at once; one that needs a qom-get is answered by the QMP
    /// reader thread when the reply comes (see <see cref="InlineContinuations"/>), so the FUSE worker is free at
    /// once and a cold read costs one thread wake-up fewer.
    /// </summary>
    public ValueTask<int> ReadAsync(ReadOnlySpan<byte> path, ulong offset, Memory<byte> buffer, FuseFileInfo fi) =>
        _pageCache ? PageRead(FusePath.GetString(path), offset, buffer) : DirectRead(FusePath.GetString(path), offset, buffer, fi.FileHandle);

    ValueTask<int> PageRead(string path, ulong offset, Memory<byte> buffer)
    {
        // Later pages of a long value come from the value its first page came from.
        if (offset != 0 && _longValues.TryGetValue(path, out var text)) return new(Copy(text, offset, buffer.Span));
        var node = FileNode(path);
        return new(InlineContinuations.Run(() => PageReadAsync(node, offset, buffer)));
    }

    ValueTask<int> DirectRead(string path, ulong offset, Memory<byte> buffer, ulong handle)
    {
        // An open file reads one snapshot of its value, fetched afresh at offset 0.
        if (!_snapshots.TryGetValue(handle, out var snapshot)) throw new FuseException(Errno.EBADF);
        if (offset != 0 && snapshot.Length != 0) return new(Copy(snapshot, offset, buffer.Span));
        var node = FileNode(path);
        return new(InlineContinuations.Run(() => SnapshotAsync(node, offset, buffer, handle, snapshot)));
    }

    // The rest of these two runs on the thread that receives the value: nothing after the fetch may wait for QMP.

    async Task<int> SnapshotAsync(Node node, ulong offset, Memory<byte> buffer, ulong handle, byte[] previous)
    {
        var text = await FetchAsync(node);
        _snapshots.TryUpdate(handle, text, previous); // not if the file was closed meanwhile
        return Copy(text, offset, buffer.Span);
    }

    async Task<int> PageReadAsync(Node node, ulong offset, Memory<byte> buffer)
    {
        // The size the kernel may have: the last value's length, or one page if none was read yet.
        var believed = cache.TryLastFetch(node.Owner, node.Name, out var last, out _) ? last.Length : UnreadSize;
        var text = await FetchAsync(node);
        if (text.Length > (long)offset + buffer.Length) _longValues[node.Path] = text;
        else _longValues.TryRemove(node.Path, out _);
        // A value longer than that would end early: make the kernel ask for the attributes again, which now give
        // the value's length, before it reads on.
        if (text.Length > Math.Min(believed, (long)offset + buffer.Length)) Mount?.Invalidate(node.Path, attributesOnly: true);
        return Copy(text, offset, buffer.Span);
    }

    async Task<byte[]> FetchAsync(Node node)
    {
        try { return await cache.GetTextAsync(node.Owner, node.Name); }
        catch (Exception e) when (e is not FuseException) { throw new FuseException(LogRead(node.Path, e), e.Message, e); }
    }

    static int Copy(byte[] text, ulong offset, Span<byte> buffer)
    {
        if (offset >= (ulong)text.Length) return 0;
        var n = Math.Min(buffer.Length, text.Length - (int)offset);
        text.AsSpan((int)offset, n).CopyTo(buffer);
        return n;
    }

    Node FileNode(string path)
    {
        var node = Resolve(path);
        return node.Kind == NodeKind.File ? node : throw new FuseException(Errno.EISDIR);
    }

    /// <summary>
    /// Sets a value, sysfs-style. A write whose length is a whole number of pages looks like a full buffer (stdio,
    /// <c>dd</c>, <c>cat</c> in chunks, the kernel splitting a large write): more may follow, so it is held. Any
    /// other write ends the value and sets it at once, so that a rejection fails that very write(2). A write that
    /// continues where the previous one to the file ended extends that value (held or already set).
    /// </summary>
    public int Write(ReadOnlySpan<byte> path, ulong offset, ReadOnlySpan<byte> data, ref FuseFileInfo fi)
    {
        var name = FusePath.GetString(path);
        var node = FileNode(name);
        lock (_writeGate)
        {
            var held = TakeHeld(name);
            var fresh = offset == 0 || (fi.Flags & O_APPEND) != 0;
            var continues = held is not null && !fresh && (ulong)held.Value.Length == offset;
            // A held value that this write does not continue was whole: set it before anything else.
            if (held is not null && !continues) Set(name, held.Node, held.Value);
            byte[] value;
            if (fresh) value = data.ToArray();
            else if (continues) value = [.. held!.Value, .. data];
            else if (_written.TryGet(name, out var set) && (ulong)set.Length == offset) value = [.. set, .. data];
            else return -Errno.ESPIPE;
            _written.TryRemove(name);
            if (value.Length > options.MaxWriteBytes) return -Errno.EFBIG;
            if (data.Length > 0 && data.Length % PageSize == 0)
            {
                var waiting = new Held(value, node);
                _held[name] = waiting;
                waiting.Timer = new Timer(_ => SetHeld(name, waiting), null, HoldTime, Timeout.InfiniteTimeSpan);
                return data.Length;
            }
            var errno = Set(name, node, value);
            return errno == 0 ? data.Length : -errno;
        }
    }

    // Under _writeGate: the held value of a file, if any, no longer held.
    Held? TakeHeld(string name)
    {
        if (!_held.Remove(name, out var held)) return null;
        held.Timer?.Dispose();
        return held;
    }

    // A held value that nothing continued (or, if given, that very one): set it now. Its writer may have closed the
    // file already, so an error can only be logged.
    void SetHeld(string name, Held? only = null)
    {
        lock (_writeGate)
        {
            if (!_held.TryGetValue(name, out var held) || (only is not null && held != only)) return;
            TakeHeld(name);
            Set(name, held.Node, held.Value);
        }
    }

    sealed class Held(byte[] value, Node node)
    {
        public byte[] Value { get; } = value;
        public Node Node { get; } = node;
        public Timer? Timer { get; set; }
    }

    int Set(string name, Node node, byte[] value)
    {
        try
        {
            Run(() => cache.SetTextAsync(node.Owner, node.Property!, value), ErrnoMapping.ForWrite);
            _written.AddOrUpdate(name, value);
            return 0;
        }
        catch (FuseException e)
        {
            log.Write($"write {name}: {e.Message}");
            return e.Errno;
        }
    }

    public int Truncate(ReadOnlySpan<byte> path, ulong length, FuseFileInfoRef fi)
    {
        if (options.ReadOnly) return -Errno.EROFS;
        var name = FusePath.GetString(path);
        if (Resolve(name).Kind != NodeKind.File) return -Errno.EINVAL;
        // open(O_TRUNC) truncates before the writes of a new value; any other length means nothing for a value.
        if (length != 0) return -Errno.EINVAL;
        SetHeld(name);
        _written.TryRemove(name);
        return 0;
    }

    // With a TTL the kernel caches listings itself (see the remarks above); without, each opendir(2) reads afresh.
    public int OpenDir(ReadOnlySpan<byte> path, ref FuseFileInfo fi) => _pageCache ? -Errno.ENOSYS : 0;

    // Close has nothing to do (see Write): ENOSYS spares every later close(2) the kernel's FLUSH round trip.
    public int Flush(ReadOnlySpan<byte> path, ref FuseFileInfo fi) => -Errno.ENOSYS;

    /// <summary>At unmount, sets what is still held.</summary>
    public void Destroy()
    {
        lock (_writeGate)
            foreach (var name in _held.Keys.ToArray()) SetHeld(name);
    }

    public int Release(ReadOnlySpan<byte> path, ref FuseFileInfo fi)
    {
        _snapshots.TryRemove(fi.FileHandle, out _);
        return 0;
    }

    // `touch` on a property file: nothing to store, but not an error.
    public int Utimens(ReadOnlySpan<byte> path, in FuseTimespec access, in FuseTimespec modification, FuseFileInfoRef fi)
    {
        Resolve(FusePath.GetString(path));
        return options.ReadOnly ? -Errno.EROFS : 0;
    }

    public int Create(ReadOnlySpan<byte> path, uint mode, ref FuseFileInfo fi)
    {
        Resolve(QomPath.Parent(FusePath.GetString(path)));
        return options.ReadOnly ? -Errno.EROFS : -Errno.EACCES;
    }

    public int GetXAttr(ReadOnlySpan<byte> path, ReadOnlySpan<byte> name, Span<byte> value)
    {
        var node = Resolve(FusePath.GetString(path));
        var wanted = Encoding.UTF8.GetString(name);
        // Not one of ours (ls -l asks every entry for security.selinux): no value needs computing, or fetching.
        if (!wanted.StartsWith("user.qom.", StringComparison.Ordinal)) return -Errno.ENODATA;
        var attribute = Attributes(node).FirstOrDefault(a => a.Name == wanted);
        return attribute.Name is null ? -Errno.ENODATA : FuseXAttr.Copy(Encoding.UTF8.GetBytes(attribute.Value), value);
    }

    public int ListXAttr(ReadOnlySpan<byte> path, Span<byte> list)
    {
        var node = Resolve(FusePath.GetString(path));
        var names = new StringBuilder();
        foreach (var (name, _) in Attributes(node)) names.Append(name).Append('\0');
        return FuseXAttr.Copy(Encoding.UTF8.GetBytes(names.ToString()), list);
    }

    public int StatFs(ReadOnlySpan<byte> path, ref FuseStatVfs stat)
    {
        stat.BlockSize = 4096;
        stat.FragmentSize = 4096;
        stat.NameMax = 255;
        return 0;
    }

    IEnumerable<(string Name, string Value)> Attributes(Node node)
    {
        if (node.Property is null)
        {
            yield return ("user.qom.type", Encoding.UTF8.GetString(Run(() => cache.GetTextAsync(QomPath.Root, "type"), ErrnoMapping.ForRead)).TrimEnd('\n'));
            yield break;
        }
        var p = Run(() => cache.DescribeAsync(node.Owner, node.Name), ErrnoMapping.ForRead) ?? node.Property;
        yield return ("user.qom.type", p.Type);
        if (p.Description is { } d) yield return ("user.qom.description", d);
        if (p.DefaultValue is { } v) yield return ("user.qom.default-value", ValueCodec.FormatText(Encoding.UTF8.GetBytes(v.GetRawText())).TrimEnd('\n'));
    }

    Node Resolve(string path)
    {
        if (path == QomPath.Root) return Node.Root;
        var listing = Run(() => cache.ListAsync(QomPath.Parent(path)), ErrnoMapping.ForRead);
        var property = listing.Find(QomPath.Name(path)) ?? throw new FuseException(Errno.ENOENT);
        return Node.Of(path, property);
    }

    void Fill(Node node, ref FuseStat stat)
    {
        stat.Uid = options.Uid;
        stat.Gid = options.Gid;
        var time = options.MountTime;
        switch (node.Kind)
        {
            case NodeKind.Directory:
                time = time.AddTicks(cache.ListingGeneration(node.Path));
                stat.Mode = FuseStat.S_IFDIR | 0b111_101_101;
                stat.LinkCount = 2;
                stat.BlockSize = 4096;
                break;
            case NodeKind.Link:
                stat.Mode = FuseStat.S_IFLNK | 0b111_111_111;
                stat.LinkCount = 1;
                stat.BlockSize = 4096;
                break;
            default:
                stat.Mode = FuseStat.S_IFREG | (options.ReadOnly ? 0b100_100_100u : 0b110_100_100u);
                stat.LinkCount = 1;
                stat.BlockSize = WriteBlockSize;
                // A read in flight: wait for its value rather than show the size before it. The kernel does not
                // trim a file to the end of a read if attributes came meanwhile, so an unread file's page, shown
                // while its first read was in flight, would read on past the value as zeros.
                // (Run only waits: the read that started the fetch reports how it ended.)
                if (cache.TryGetFetchInFlight(node.Owner, node.Name, out var fetch)) ThreadPump.Run(() => fetch);
                if (cache.TryLastFetch(node.Owner, node.Name, out var last, out var cached))
                {
                    // Once read, a file never shows one page again: a page the kernel could not drop would then
                    // read on past the value, as zeros.
                    stat.Size = last.Length;
                    time = time.AddTicks(cached ? CachedTicks(last) : 2 * Interlocked.Increment(ref _expiredReports));
                }
                else stat.Size = _pageCache ? UnreadSize : 0;
                stat.Blocks = (stat.Size + 511) / 512;
                break;
        }
        stat.SetAllTimes(time);
    }

    /// <summary>
    /// How far past the mount time a cached value's modification time is. The kernel drops a file's pages when a
    /// refresh of its attributes shows another size or time, so every fetch must look different (odd ticks, one
    /// per generation), and so must every report of a value no longer cached (even ticks, one per report, see
    /// Fill: if the kernel could not drop a page it was using, the next refresh tries again). The first fetch
    /// keeps the time an unread file shows: the kernel trimmed the size to the value's length when it read it, so
    /// nothing changed and its pages stay; a first value exactly one page long would look unread, hence 1 then.
    /// </summary>
    static long CachedTicks(QomFetch f) => f.Generation == 0 && f.Length != UnreadSize ? 0 : 2L * f.Generation + 1;

    int LogRead(string path, Exception e)
    {
        if (!_loggedReads.TryGet(path, out var last) || !ReferenceEquals(last, e))
        {
            _loggedReads.AddOrUpdate(path, e);
            log.Write($"read {path}: {e.Message}");
        }
        return ErrnoMapping.ForRead(e);
    }

    /// <summary>
    /// Runs a QMP task to completion on this FUSE worker thread; a failure becomes the errno <paramref name="map"/>
    /// picks. Served from the cache it completes at once; otherwise the thread runs the task's continuations itself
    /// (<see cref="ThreadPump"/>), so that a reply costs one wake-up, from the QMP reader to this thread.
    /// </summary>
    static T Run<T>(Func<Task<T>> start, Func<Exception, int> map)
    {
        try { return ThreadPump.Run(start).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is not FuseException) { throw new FuseException(map(e), e.Message, e); }
    }

    static void Run(Func<Task> start, Func<Exception, int> map)
    {
        try { ThreadPump.Run(start).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is not FuseException) { throw new FuseException(map(e), e.Message, e); }
    }
}
