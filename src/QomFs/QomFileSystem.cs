using System.Collections.Concurrent;
using System.Text;
using QomFs.Fuse;
using QomFs.Qom;

namespace QomFs;

/// <summary>
/// The QOM tree as files: objects are directories, <c>child&lt;&gt;</c> properties subdirectories, <c>link&lt;&gt;</c>
/// properties symlinks, every other property a file whose text is the codec's. The only class that knows both
/// FUSE and QOM. Values are fetched only when a file is read: listings and attributes never cost a qom-get.
/// </summary>
public sealed class QomFileSystem(QomCache cache, QomFsOptions options, DaemonLog log) : IFuseFileSystem
{
    /// <summary>What an unset link points to: a name that exists nowhere, so it dangles visibly.</summary>
    public const string UnsetLinkTarget = "<unset>";

    // A write shorter than this is taken to end the value (echo, printf of a short value, stdio's last chunk)
    // and is set at once, so that a rejection fails that very write(2). Longer writes may be followed by more;
    // they are set at the next short write or at close.
    const int ShortWrite = 4096;

    readonly ConcurrentDictionary<ulong, OpenFile> _open = new();
    long _nextHandle;

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
        var handle = (ulong)Interlocked.Increment(ref _nextHandle);
        _open[handle] = new OpenFile(node.Owner, node.Property!);
        fi.FileHandle = handle;
        // Values change behind the kernel's back and their size is unknown until read: no page cache.
        fi.DirectIo = true;
        // A read-only open has nothing to set at close: spare the kernel's FLUSH round trip on every close(2).
        fi.NoFlush = fi.AccessMode == 0;
        return 0;
    }

    public int Read(ReadOnlySpan<byte> path, ulong offset, Span<byte> buffer, ref FuseFileInfo fi)
    {
        var file = Handle(fi);
        byte[] text;
        lock (file.Gate)
        {
            if (offset == 0 || file.Snapshot is null)
                file.Snapshot = Run(() => cache.GetTextAsync(file.ObjectPath, file.Property.Name), e => LogRead(file, e));
            text = file.Snapshot;
        }
        if (offset >= (ulong)text.Length) return 0;
        var n = Math.Min(buffer.Length, text.Length - (int)offset);
        text.AsSpan((int)offset, n).CopyTo(buffer);
        return n;
    }

    public int Write(ReadOnlySpan<byte> path, ulong offset, ReadOnlySpan<byte> data, ref FuseFileInfo fi)
    {
        var file = Handle(fi);
        lock (file.Gate)
        {
            if (file.Broken != 0) return -file.Broken;
            if (offset != (ulong)file.Written.Length) return file.Break(Errno.ESPIPE);
            if (file.Written.Length + data.Length > options.MaxWriteBytes) return file.Break(Errno.EFBIG);
            file.Written.Write(data);
            file.Dirty = true;
            if (data.Length < ShortWrite)
            {
                var error = Commit(file);
                if (error != 0) return error;
            }
        }
        return data.Length;
    }

    public int Truncate(ReadOnlySpan<byte> path, ulong length, FuseFileInfoRef fi)
    {
        if (options.ReadOnly) return -Errno.EROFS;
        if (fi.IsNull)
        {
            // open(O_TRUNC) truncates before it opens: a write follows, or nothing does.
            var node = Resolve(FusePath.GetString(path));
            return node.Kind != NodeKind.File ? -Errno.EINVAL : length == 0 ? 0 : -Errno.EINVAL;
        }
        if (length != 0) return -Errno.EINVAL;
        var file = Handle(fi.Value);
        lock (file.Gate)
        {
            file.Written.SetLength(0);
            file.Dirty = false;
            file.Broken = 0;
        }
        return 0;
    }

    public int Flush(ReadOnlySpan<byte> path, ref FuseFileInfo fi)
    {
        var file = Handle(fi);
        lock (file.Gate) return file.Dirty ? Commit(file) : 0;
    }

    public int Release(ReadOnlySpan<byte> path, ref FuseFileInfo fi)
    {
        if (!_open.TryRemove(fi.FileHandle, out var file)) return 0;
        lock (file.Gate) if (file.Dirty) Commit(file);
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
        if (node.Property is not { } p)
        {
            yield return ("user.qom.type", Encoding.UTF8.GetString(Run(() => cache.GetTextAsync(QomPath.Root, "type"), ErrnoMapping.ForRead)).TrimEnd('\n'));
            yield break;
        }
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
        stat.SetAllTimes(options.MountTime);
        stat.BlockSize = 4096;
        switch (node.Kind)
        {
            case NodeKind.Directory:
                stat.Mode = FuseStat.S_IFDIR | 0b111_101_101;
                stat.LinkCount = 2;
                break;
            case NodeKind.Link:
                stat.Mode = FuseStat.S_IFLNK | 0b111_111_111;
                stat.LinkCount = 1;
                break;
            default:
                stat.Mode = FuseStat.S_IFREG | (options.ReadOnly ? 0b100_100_100u : 0b110_100_100u);
                stat.LinkCount = 1;
                // The size is known only once the value was read; until then 0, as in /proc. Reads use direct
                // I/O, so tools read to end of file whatever the size says.
                stat.Size = cache.TryPeekTextLength(node.Owner, node.Name, out var length) ? length : 0;
                stat.Blocks = (stat.Size + 511) / 512;
                break;
        }
    }

    int Commit(OpenFile file)
    {
        file.Dirty = false;
        try
        {
            Run(() => cache.SetTextAsync(file.ObjectPath, file.Property, file.Written.ToArray()), ErrnoMapping.ForWrite);
            return 0;
        }
        catch (FuseException e)
        {
            log.Write($"write {QomPath.Combine(file.ObjectPath, file.Property.Name)}: {e.Message}");
            return -e.Errno;
        }
    }

    int LogRead(OpenFile file, Exception e)
    {
        log.Write($"read {QomPath.Combine(file.ObjectPath, file.Property.Name)}: {e.Message}");
        return ErrnoMapping.ForRead(e);
    }

    OpenFile Handle(in FuseFileInfo fi) =>
        _open.TryGetValue(fi.FileHandle, out var file) ? file : throw new FuseException(Errno.EBADF);

    /// <summary>
    /// Runs a QMP task to completion on this FUSE worker thread; a failure becomes the errno <paramref name="map"/>
    /// picks. Served from the cache it completes at once; otherwise the thread runs the task's continuations itself
    /// (<see cref="FuseThreadPump"/>), so that a reply costs one wake-up, from the QMP reader to this thread.
    /// </summary>
    static T Run<T>(Func<Task<T>> start, Func<Exception, int> map)
    {
        try { return FuseThreadPump.Run(start).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is not FuseException) { throw new FuseException(map(e), e.Message, e); }
    }

    static void Run(Func<Task> start, Func<Exception, int> map)
    {
        try { FuseThreadPump.Run(start).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is not FuseException) { throw new FuseException(map(e), e.Message, e); }
    }
}
