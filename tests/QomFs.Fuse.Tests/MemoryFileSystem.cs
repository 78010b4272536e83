using System.Collections.Concurrent;
using System.Text;
using QomFs.Fuse;

namespace QomFs.Fuse.Tests;

/// <summary>
/// An in-memory tree to mount for real, with a few special files that misbehave on purpose:
/// /denied fails reads with EACCES, /throws throws, /slow holds reads until several run at once, /whoami reports the caller.
/// Counts calls so tests can see what the kernel asked for.
/// </summary>
sealed class MemoryFileSystem : IFuseFileSystem
{
    public const uint Uid = 1234, Gid = 5678;
    public static readonly DateTimeOffset Time = new(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);

    abstract record Node(uint Mode);
    sealed record Dir(uint Mode, bool WithAttributes) : Node(Mode)
    {
        public readonly ConcurrentDictionary<string, Node> Children = new();
    }
    sealed record FileNode(uint Mode) : Node(Mode)
    {
        public byte[] Content = [];
        public readonly Dictionary<string, byte[]> XAttrs = new();
    }
    sealed record Link(string Target) : Node(FuseStat.S_IFLNK | 0x1FF);

    readonly Dir _root = new(FuseStat.S_IFDIR | 0x1ED, WithAttributes: true);

    public readonly ConcurrentDictionary<string, int> GetAttrCalls = new();
    public readonly ConcurrentQueue<(string Path, FuseReadDirFlags Flags)> ReadDirCalls = new();
    public readonly ConcurrentDictionary<string, int> ReadCalls = new();
    public volatile bool Destroyed;
    public int SlowTarget = 2;
    public TimeSpan SlowPatience = TimeSpan.FromSeconds(3);
    int _slowNow, _slowMax;
    public int SlowMaxConcurrency => Volatile.Read(ref _slowMax);

    public MemoryFileSystem()
    {
        AddFile("/hello", "hello world\n");
        AddFile("/denied", "secret\n");
        AddFile("/throws", "boom\n");
        AddFile("/slow", "slow but sure\n");
        AddFile("/whoami", "");
        var tagged = AddFile("/tagged", "has attributes\n");
        tagged.XAttrs["user.color"] = "blue"u8.ToArray();
        tagged.XAttrs["user.shape"] = "round"u8.ToArray();
        _root.Children["link"] = new Link("hello");
        AddDir("/rw", withAttributes: true);
        AddDir("/plus", withAttributes: true);
        AddDir("/names", withAttributes: false);
        for (var i = 0; i < 20; i++)
        {
            AddFile($"/plus/f{i:00}", new string('x', i));
            AddFile($"/names/f{i:00}", new string('x', i));
        }
    }

    public string Content(string path) => Encoding.UTF8.GetString(((FileNode)Find(path)!).Content);

    /// <summary>Changes a file behind the kernel's back.</summary>
    public void SetContent(string path, string content) => ((FileNode)Find(path)!).Content = Encoding.UTF8.GetBytes(content);

    /// <summary>Removes an entry behind the kernel's back.</summary>
    public void Remove(string path)
    {
        var (parent, name) = Split(path);
        ((Dir)Find(parent)!).Children.TryRemove(name, out _);
    }

    FileNode AddFile(string path, string content)
    {
        var (parent, name) = Split(path);
        var file = new FileNode(FuseStat.S_IFREG | 0x1A4) { Content = Encoding.UTF8.GetBytes(content) };
        ((Dir)Find(parent)!).Children[name] = file;
        return file;
    }

    void AddDir(string path, bool withAttributes)
    {
        var (parent, name) = Split(path);
        ((Dir)Find(parent)!).Children[name] = new Dir(FuseStat.S_IFDIR | 0x1ED, withAttributes);
    }

    static (string Parent, string Name) Split(string path)
    {
        var slash = path.LastIndexOf('/');
        return (slash == 0 ? "/" : path[..slash], path[(slash + 1)..]);
    }

    Node? Find(string path)
    {
        Node node = _root;
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (node is not Dir dir || !dir.Children.TryGetValue(part, out var child)) return null;
            node = child;
        }
        return node;
    }

    Node Get(ReadOnlySpan<byte> path) => Find(FusePath.GetString(path)) ?? throw new FuseException(Errno.ENOENT);

    static void Fill(Node node, ref FuseStat stat)
    {
        stat.Mode = node.Mode;
        stat.LinkCount = node is Dir ? 2u : 1u;
        stat.Uid = Uid;
        stat.Gid = Gid;
        stat.Size = node switch { FileNode f => f.Content.Length, Link l => l.Target.Length, _ => 0 };
        stat.Blocks = (stat.Size + 511) / 512;
        stat.SetAllTimes(Time);
    }

    public int GetAttr(ReadOnlySpan<byte> path, ref FuseStat stat, FuseFileInfoRef fi)
    {
        var p = FusePath.GetString(path);
        GetAttrCalls.AddOrUpdate(p, 1, (_, n) => n + 1);
        var node = Find(p);
        if (node is null) return -Errno.ENOENT;
        Fill(node, ref stat);
        return 0;
    }

    public int ReadDir(ReadOnlySpan<byte> path, ref FuseDirectoryFiller filler, ulong offset, FuseReadDirFlags flags, FuseFileInfoRef fi)
    {
        var p = FusePath.GetString(path);
        ReadDirCalls.Enqueue((p, flags));
        if (Get(path) is not Dir dir) return -Errno.ENOTDIR;
        filler.Add("."u8);
        filler.Add(".."u8);
        foreach (var (name, child) in dir.Children.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            if (dir.WithAttributes)
            {
                var stat = new FuseStat();
                Fill(child, ref stat);
                if (!filler.Add(name, in stat)) break;
            }
            else if (!filler.Add(name)) break;
        }
        return 0;
    }

    public int ReadLink(ReadOnlySpan<byte> path, Span<byte> buffer)
    {
        if (Get(path) is not Link link) return -Errno.EINVAL;
        var target = Encoding.UTF8.GetBytes(link.Target);
        target.AsSpan(0, Math.Min(target.Length, buffer.Length - 1)).CopyTo(buffer);
        return 0;
    }

    public int Open(ReadOnlySpan<byte> path, ref FuseFileInfo fi)
    {
        if (Get(path) is not FileNode) return -Errno.EISDIR;
        if (path.SequenceEqual("/slow"u8) || path.SequenceEqual("/whoami"u8)) fi.DirectIo = true;
        return 0;
    }

    public int Read(ReadOnlySpan<byte> path, ulong offset, Span<byte> buffer, ref FuseFileInfo fi)
    {
        ReadCalls.AddOrUpdate(Encoding.UTF8.GetString(path), 1, (_, n) => n + 1);
        if (path.SequenceEqual("/denied"u8)) return -Errno.EACCES;
        if (path.SequenceEqual("/throws"u8)) throw new InvalidOperationException("a bug in the file system");
        if (path.SequenceEqual("/slow"u8) && offset == 0) HoldUntilCrowded();
        byte[] content;
        if (path.SequenceEqual("/whoami"u8))
        {
            var caller = FuseContext.Current;
            content = Encoding.UTF8.GetBytes($"{caller.Uid} {caller.Pid}\n");
        }
        else if (Get(path) is FileNode file) lock (file) content = file.Content;
        else return -Errno.EISDIR;

        if (offset >= (ulong)content.Length) return 0;
        var n = Math.Min(buffer.Length, content.Length - (int)offset);
        content.AsSpan((int)offset, n).CopyTo(buffer);
        return n;
    }

    /// <summary>Waits (bounded) until SlowTarget reads are inside at once, which only a multi-threaded loop allows.</summary>
    void HoldUntilCrowded()
    {
        var now = Interlocked.Increment(ref _slowNow);
        for (var max = Volatile.Read(ref _slowMax); now > max; max = Volatile.Read(ref _slowMax))
            if (Interlocked.CompareExchange(ref _slowMax, now, max) == max) break;
        var deadline = DateTime.UtcNow + SlowPatience;
        while (Volatile.Read(ref _slowMax) < SlowTarget && DateTime.UtcNow < deadline) Thread.Sleep(5);
        Interlocked.Decrement(ref _slowNow);
    }

    public int Write(ReadOnlySpan<byte> path, ulong offset, ReadOnlySpan<byte> data, ref FuseFileInfo fi)
    {
        if (Get(path) is not FileNode file) return -Errno.EISDIR;
        lock (file)
        {
            var end = (int)offset + data.Length;
            if (end > file.Content.Length) Array.Resize(ref file.Content, end);
            data.CopyTo(file.Content.AsSpan((int)offset));
        }
        return data.Length;
    }

    public int Truncate(ReadOnlySpan<byte> path, ulong length, FuseFileInfoRef fi)
    {
        if (Get(path) is not FileNode file) return -Errno.EISDIR;
        lock (file) Array.Resize(ref file.Content, (int)length);
        return 0;
    }

    public int Create(ReadOnlySpan<byte> path, uint mode, ref FuseFileInfo fi)
    {
        var (parent, name) = Split(FusePath.GetString(path));
        if (parent != "/rw") return -Errno.EACCES;
        ((Dir)Find(parent)!).Children[name] = new FileNode(FuseStat.S_IFREG | (mode & 0xFFF));
        return 0;
    }

    public int Utimens(ReadOnlySpan<byte> path, in FuseTimespec access, in FuseTimespec modification, FuseFileInfoRef fi)
    {
        Get(path);
        return 0;
    }

    /// <summary>GetXAttr calls for a POSIX ACL (<c>system.posix_acl_*</c>) of a file.</summary>
    public int FileAclQueries => Volatile.Read(ref _fileAclQueries);
    int _fileAclQueries;

    public int GetXAttr(ReadOnlySpan<byte> path, ReadOnlySpan<byte> name, Span<byte> value)
    {
        if (name.StartsWith("system.posix_acl_"u8) && Get(path) is FileNode) Interlocked.Increment(ref _fileAclQueries);
        if (Get(path) is not FileNode file || !file.XAttrs.TryGetValue(Encoding.UTF8.GetString(name), out var data))
            return -Errno.ENODATA;
        return FuseXAttr.Copy(data, value);
    }

    public int ListXAttr(ReadOnlySpan<byte> path, Span<byte> list)
    {
        if (Get(path) is not FileNode file) return 0;
        var names = Encoding.UTF8.GetBytes(string.Concat(file.XAttrs.Keys.Order().Select(k => k + "\0")));
        return FuseXAttr.Copy(names, list);
    }

    public int StatFs(ReadOnlySpan<byte> path, ref FuseStatVfs stat)
    {
        stat.BlockSize = 4096;
        stat.FragmentSize = 4096;
        stat.Blocks = 1000;
        stat.BlocksFree = 400;
        stat.BlocksAvailable = 300;
        stat.Files = 50;
        stat.FilesFree = 7;
        stat.NameMax = 200;
        return 0;
    }

    public void Destroy() => Destroyed = true;
}

/// <summary>Implements only the two required methods, to show what the interface defaults do.</summary>
sealed class MinimalFileSystem : IFuseFileSystem
{
    public int GetAttr(ReadOnlySpan<byte> path, ref FuseStat stat, FuseFileInfoRef fi)
    {
        if (path.SequenceEqual("/"u8)) stat.Mode = FuseStat.S_IFDIR | 0x1ED;
        else if (path.SequenceEqual("/file"u8))
        {
            stat.Mode = FuseStat.S_IFREG | 0x1A4;
            stat.Size = 10;
        }
        else return -Errno.ENOENT;
        return 0;
    }

    public int ReadDir(ReadOnlySpan<byte> path, ref FuseDirectoryFiller filler, ulong offset, FuseReadDirFlags flags, FuseFileInfoRef fi)
    {
        filler.Add("file");
        return 0;
    }
}
