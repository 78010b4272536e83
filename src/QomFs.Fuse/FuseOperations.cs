using System.Buffers;
using System.Runtime.InteropServices;
using QomFs.Fuse.Native;

namespace QomFs.Fuse;

/// <summary>
/// The <c>struct fuse_lowlevel_ops</c> callbacks: each turns the request's node ids into paths (<see cref="NodeTable"/>),
/// calls the <see cref="IFuseFileSystem"/> of the mount, and answers the request exactly once. Every exception
/// becomes an errno, because one unwinding into libfuse's C frames would take the process down.
/// This does what libfuse's high-level API does for a path-based file system, with two differences that are the
/// reason for it: OpenDir may answer ENOSYS (the kernel then caches listings itself and sends no OPENDIR or
/// RELEASEDIR again), and OpenDir's CacheReaddir and KeepCache reach the kernel.
/// </summary>
internal static unsafe class FuseOperations
{
    /// <summary>PATH_MAX + 1: room for the longest symlink target and its NUL.</summary>
    const int MaxReadLink = 4097;

    /// <summary>renameat2's flag that swaps the two names.</summary>
    internal const uint RenameExchange = 2;

    /// <summary>The d_ino of an entry whose node the kernel does not hold (libfuse's FUSE_UNKNOWN_INO).</summary>
    public const ulong UnknownInode = 0xffffffff;

    public static FuseLowLevelOps Table => new()
    {
        Init = &Init,
        Destroy = &Destroy,
        Lookup = &Lookup,
        Forget = &Forget,
        ForgetMulti = &ForgetMulti,
        GetAttr = &GetAttr,
        SetAttr = &SetAttr,
        ReadLink = &ReadLink,
        Mknod = &Mknod,
        Mkdir = &Mkdir,
        Unlink = &Unlink,
        Rmdir = &Rmdir,
        Rename = &Rename,
        Open = &Open,
        Read = &Read,
        Write = &Write,
        Flush = &Flush,
        Release = &Release,
        OpenDir = &OpenDir,
        ReadDir = &ReadDir,
        ReadDirPlus = &ReadDirPlus,
        ReleaseDir = &ReleaseDir,
        StatFs = &StatFs,
        GetXAttr = &GetXAttr,
        ListXAttr = &ListXAttr,
        Access = &Access,
        Create = &Create,
    };

    static ReadOnlySpan<byte> Name(byte* name) => MemoryMarshal.CreateReadOnlySpanFromNullTerminated(name);

    /// <summary>The path of a node the kernel names; a detached node (unlinked while open) has an empty one.</summary>
    static byte[] PathOf(MountState s, ulong node) => s.Nodes.PathOf(node) ?? throw new FuseException(Errno.ENOENT);

    static byte[] PathOf(MountState s, ulong parent, byte* name) =>
        s.Nodes.PathOf(parent, Name(name)) ?? throw new FuseException(Errno.ENOENT);

    /// <summary>Answers a request that failed; a bug (any exception but FuseException) is reported and becomes EIO.</summary>
    static void Fail(nint req, Exception e)
    {
        var errno = Errno.EIO;
        if (e is FuseException f) errno = f.Errno;
        else Report(MountState.FromRequest(req), e);
        LibFuse.ReplyErr(req, errno);
    }

    /// <summary>Answers with success (0) or the negated errno a file system method returned.</summary>
    static void Status(nint req, int result) => LibFuse.ReplyErr(req, result < 0 ? -result : 0);

    /// <summary>A byte count above what was asked for would make libfuse reply garbage; treat it as a bug.</summary>
    static int Count(int result, nuint size) => result > (long)size ? throw new InvalidOperationException(
        $"the file system returned {result} bytes where at most {size} fit") : result;

    /// <summary>
    /// Looks a name up for the kernel: its attributes, and a node id the kernel then holds one more time. False if
    /// the reply could not be delivered (the caller was interrupted).
    /// </summary>
    static bool ReplyEntry(nint req, MountState s, ulong parent, byte* name, byte[] path, FuseFileInfo* created = null)
    {
        var e = default(FuseEntryParam);
        var r = s.FileSystem.GetAttr(path, ref e.Attr, new FuseFileInfoRef(created));
        if (r == -Errno.ENOENT && created == null && s.Options.NegativeTimeout > 0)
        {
            // Node id 0: "does not exist", cached for the negative timeout.
            e.EntryTimeout = s.Options.NegativeTimeout;
            return LibFuse.ReplyEntry(req, &e) == 0;
        }
        if (r < 0) throw new FuseException(-r);
        e.Ino = e.Attr.Inode = s.Nodes.Remember(parent, Name(name));
        e.AttrTimeout = s.FileSystem.HasVolatileAttributes(path) ? 0 : s.Options.AttrTimeout;
        e.EntryTimeout = s.Options.EntryTimeout;
        var sent = created == null ? LibFuse.ReplyEntry(req, &e) : LibFuse.ReplyCreate(req, &e, created);
        // Not delivered: the kernel will never forget it, so do it here.
        if (sent != 0) s.Nodes.Forget(e.Ino, 1);
        return sent == 0;
    }

    /// <summary>
    /// Tells the mount's handler about a bug (any exception but FuseException); never throws. After a reply this is
    /// all that can be done with a failure: answering the request twice would crash libfuse.
    /// </summary>
    static void Report(MountState s, Exception e)
    {
        try { if (e is not FuseException) s.Options.UnhandledException?.Invoke(e); }
        catch (Exception) { /* nothing left to tell */ }
    }

    static void ReplyAttr(nint req, MountState s, ulong node, byte[] path, FuseFileInfo* fi)
    {
        var stat = default(FuseStat);
        var r = s.FileSystem.GetAttr(path, ref stat, new FuseFileInfoRef(fi));
        if (r < 0) throw new FuseException(-r);
        stat.Inode = node;
        LibFuse.ReplyAttr(req, &stat, s.FileSystem.HasVolatileAttributes(path) ? 0 : s.Options.AttrTimeout);
    }

    /// <summary>The mount-wide cache options apply to every open, as libfuse's high-level API applies them.</summary>
    static void ApplyOptions(MountState s, FuseFileInfo* fi)
    {
        if (s.Options.DirectIo) fi->DirectIo = true;
        if (s.Options.KernelCache) fi->KeepCache = true;
    }

    /// <summary>
    /// Takes out atomic O_TRUNC, so that open(2) with O_TRUNC reaches the file system as Truncate(path, 0) rather
    /// than as a flag Open must notice, and READDIRPLUS_AUTO if every batch should bring attributes.
    /// </summary>
    [UnmanagedCallersOnly]
    static void Init(void* userData, FuseConnInfo* connection)
    {
        try
        {
            var options = MountState.FromUserData(userData).Options;
            connection->Want &= ~FuseConnInfo.FUSE_CAP_ATOMIC_O_TRUNC;
            if (options.AttributesWithEveryBatch) connection->Want &= ~FuseConnInfo.FUSE_CAP_READDIRPLUS_AUTO;
            // Asking for what the kernel cannot do would make libfuse abort the mount.
            if (options.PosixAcls) connection->Want |= connection->Capable & FuseConnInfo.FUSE_CAP_POSIX_ACL;
        }
        catch (Exception) { /* only the options' getter could throw, and it does not */ }
    }

    [UnmanagedCallersOnly]
    static void Destroy(void* userData)
    {
        var s = MountState.FromUserData(userData);
        try { s.FileSystem.Destroy(); }
        catch (Exception e) { Report(s, e); }
    }

    [UnmanagedCallersOnly]
    static void Lookup(nint req, ulong parent, byte* name)
    {
        try
        {
            var s = MountState.EnterCallback(req);
            ReplyEntry(req, s, parent, name, PathOf(s, parent, name));
        }
        catch (Exception e) { Fail(req, e); }
    }

    [UnmanagedCallersOnly]
    static void Forget(nint req, ulong node, ulong count)
    {
        MountState.EnterCallback(req).Nodes.Forget(node, count);
        LibFuse.ReplyNone(req);
    }

    [UnmanagedCallersOnly]
    static void ForgetMulti(nint req, nuint count, FuseForgetData* forgets)
    {
        var nodes = MountState.EnterCallback(req).Nodes;
        for (nuint i = 0; i < count; i++) nodes.Forget(forgets[i].Ino, forgets[i].NLookup);
        LibFuse.ReplyNone(req);
    }

    [UnmanagedCallersOnly]
    static void GetAttr(nint req, ulong node, FuseFileInfo* fi)
    {
        try
        {
            var s = MountState.EnterCallback(req);
            ReplyAttr(req, s, node, PathOf(s, node), fi);
        }
        catch (Exception e) { Fail(req, e); }
    }

    /// <summary>chmod, chown, truncate and utimensat arrive as one request; they are applied in that order, as libfuse does.</summary>
    [UnmanagedCallersOnly]
    static void SetAttr(nint req, ulong node, FuseStat* attr, int toSet, FuseFileInfo* fi)
    {
        try
        {
            var s = MountState.EnterCallback(req);
            var fs = s.FileSystem;
            var path = PathOf(s, node);
            var info = new FuseFileInfoRef(fi);
            var set = (SetAttrFlags)toSet;
            var r = 0;
            if (set.HasFlag(SetAttrFlags.Mode)) r = fs.Chmod(path, attr->Mode, info);
            if (r == 0 && (set & (SetAttrFlags.Uid | SetAttrFlags.Gid)) != 0)
                r = fs.Chown(path, set.HasFlag(SetAttrFlags.Uid) ? attr->Uid : uint.MaxValue,
                    set.HasFlag(SetAttrFlags.Gid) ? attr->Gid : uint.MaxValue, info);
            if (r == 0 && set.HasFlag(SetAttrFlags.Size))
                r = attr->Size < 0 ? -Errno.EINVAL : fs.Truncate(path, (ulong)attr->Size, info);
            if (r == 0 && (set & (SetAttrFlags.AccessTime | SetAttrFlags.ModificationTime)) != 0)
            {
                var access = Time(set, SetAttrFlags.AccessTime, SetAttrFlags.AccessTimeNow, attr->AccessTime);
                var modification = Time(set, SetAttrFlags.ModificationTime, SetAttrFlags.ModificationTimeNow, attr->ModificationTime);
                r = fs.Utimens(path, in access, in modification, info);
            }
            if (r < 0) Status(req, r);
            else ReplyAttr(req, s, node, path, fi);
        }
        catch (Exception e) { Fail(req, e); }
    }

    static FuseTimespec Time(SetAttrFlags set, SetAttrFlags given, SetAttrFlags now, FuseTimespec value) =>
        set.HasFlag(now) ? new FuseTimespec { Nanoseconds = FuseTimespec.UTIME_NOW }
        : set.HasFlag(given) ? value
        : new FuseTimespec { Nanoseconds = FuseTimespec.UTIME_OMIT };

    [UnmanagedCallersOnly]
    static void ReadLink(nint req, ulong node)
    {
        try
        {
            var s = MountState.EnterCallback(req);
            var target = stackalloc byte[MaxReadLink];
            var buffer = new Span<byte>(target, MaxReadLink);
            buffer.Clear();
            var r = s.FileSystem.ReadLink(PathOf(s, node), buffer[..^1]);
            if (r < 0) Status(req, r);
            else LibFuse.ReplyReadLink(req, target);
        }
        catch (Exception e) { Fail(req, e); }
    }

    [UnmanagedCallersOnly]
    static void Mknod(nint req, ulong parent, byte* name, uint mode, ulong device)
    {
        try { ServeMake(req, parent, name, (fs, path) => fs.Mknod(path, mode, device)); }
        catch (Exception e) { Fail(req, e); }
    }

    [UnmanagedCallersOnly]
    static void Mkdir(nint req, ulong parent, byte* name, uint mode)
    {
        try { ServeMake(req, parent, name, (fs, path) => fs.Mkdir(path, mode)); }
        catch (Exception e) { Fail(req, e); }
    }

    /// <summary>Mknod and Mkdir: made, then looked up for the kernel.</summary>
    static void ServeMake(nint req, ulong parent, byte* name, Func<IFuseFileSystem, byte[], int> make)
    {
        var s = MountState.EnterCallback(req);
        var path = PathOf(s, parent, name);
        var r = make(s.FileSystem, path);
        if (r < 0) Status(req, r);
        else ReplyEntry(req, s, parent, name, path);
    }

    [UnmanagedCallersOnly]
    static void Unlink(nint req, ulong parent, byte* name)
    {
        try { ServeRemove(req, parent, name, directory: false); }
        catch (Exception e) { Fail(req, e); }
    }

    [UnmanagedCallersOnly]
    static void Rmdir(nint req, ulong parent, byte* name)
    {
        try { ServeRemove(req, parent, name, directory: true); }
        catch (Exception e) { Fail(req, e); }
    }

    /// <summary>Unlink and Rmdir: once removed, the name's node (if the kernel holds it) has no path any more.</summary>
    static void ServeRemove(nint req, ulong parent, byte* name, bool directory)
    {
        var s = MountState.EnterCallback(req);
        var path = PathOf(s, parent, name);
        var r = directory ? s.FileSystem.Rmdir(path) : s.FileSystem.Unlink(path);
        if (r == 0) s.Nodes.Unlinked(parent, Name(name));
        Status(req, r);
    }

    [UnmanagedCallersOnly]
    static void Rename(nint req, ulong parent, byte* name, ulong newParent, byte* newName, uint flags)
    {
        try
        {
            var s = MountState.EnterCallback(req);
            var r = s.FileSystem.Rename(PathOf(s, parent, name), PathOf(s, newParent, newName), flags);
            if (r == 0 && (flags & RenameExchange) != 0) s.Nodes.Exchanged(parent, Name(name), newParent, Name(newName));
            else if (r == 0) s.Nodes.Renamed(parent, Name(name), newParent, Name(newName));
            Status(req, r);
        }
        catch (Exception e) { Fail(req, e); }
    }

    [UnmanagedCallersOnly]
    static void Open(nint req, ulong node, FuseFileInfo* fi)
    {
        try { ServeOpen(req, node, fi, directory: false); }
        catch (Exception e) { Fail(req, e); }
    }

    /// <summary>
    /// Open and OpenDir. ENOSYS from the file system is passed on: the kernel then sends no opens (and no releases)
    /// of that kind for the rest of the mount.
    /// </summary>
    static void ServeOpen(nint req, ulong node, FuseFileInfo* fi, bool directory)
    {
        var s = MountState.EnterCallback(req);
        var fs = s.FileSystem;
        var path = PathOf(s, node);
        var r = directory ? fs.OpenDir(path, ref *fi) : fs.Open(path, ref *fi);
        if (r < 0)
        {
            Status(req, r);
            return;
        }
        if (!directory) ApplyOptions(s, fi);
        if (LibFuse.ReplyOpen(req, fi) == 0) return;
        // Not delivered (the caller was interrupted): nobody will release it.
        try
        {
            if (directory) fs.ReleaseDir(path, ref *fi);
            else fs.Release(path, ref *fi);
        }
        catch (Exception e) { Report(s, e); }
    }

    [UnmanagedCallersOnly]
    static void Read(nint req, ulong node, nuint size, long offset, FuseFileInfo* fi)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)size);
        MountState? s = null;
        ValueTask<int> read;
        try
        {
            s = MountState.EnterCallback(req);
            read = s.FileSystem.ReadAsync(PathOf(s, node), (ulong)offset, buffer.AsMemory(0, (int)size), *fi);
        }
        catch (Exception e) { read = ValueTask.FromException<int>(e); }
        if (read.IsCompleted)
        {
            ReplyRead(req, buffer, size, read);
            return;
        }
        // A read that waits may wait long (a stream of events): the kernel's interrupt (the reader got a signal)
        // reaches the file system. Registered before anything can answer the request, which frees it.
        LibFuse.ReqInterruptFunc(req, &ReadInterrupted, (void*)fi->FileHandle);
        // Answered by the thread that completes the read; the mount waits for that before it tears the session down.
        s!.LateReplies.AddCount();
        read.AsTask().ContinueWith(static (task, state) =>
        {
            var (req, buffer, size, s) = ((nint, byte[], nuint, MountState))state!;
            ReplyRead(req, buffer, size, new ValueTask<int>(task));
            s.LateReplies.Signal();
        }, (req, buffer, size, s), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    // libfuse holds the request's lock here: the file system must answer the read from another thread.
    [UnmanagedCallersOnly]
    static void ReadInterrupted(nint req, void* fileHandle)
    {
        try { MountState.FromRequest(req).FileSystem.ReadInterrupted((ulong)fileHandle); }
        catch (Exception) { /* the read then ends as it would have */ }
    }

    static void ReplyRead(nint req, byte[] buffer, nuint size, ValueTask<int> read)
    {
        try
        {
            var r = read.GetAwaiter().GetResult();
            if (r < 0) Status(req, r);
            else fixed (byte* b = buffer) LibFuse.ReplyBuf(req, b, (nuint)Count(r, size));
        }
        catch (Exception e) { Fail(req, e); }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    [UnmanagedCallersOnly]
    static void Write(nint req, ulong node, byte* data, nuint size, long offset, FuseFileInfo* fi)
    {
        try
        {
            var s = MountState.EnterCallback(req);
            var r = s.FileSystem.Write(PathOf(s, node), (ulong)offset, new ReadOnlySpan<byte>(data, (int)size), ref *fi);
            if (r < 0) Status(req, r);
            else LibFuse.ReplyWrite(req, (nuint)Count(r, size));
        }
        catch (Exception e) { Fail(req, e); }
    }

    [UnmanagedCallersOnly]
    static void Flush(nint req, ulong node, FuseFileInfo* fi)
    {
        try
        {
            var s = MountState.EnterCallback(req);
            Status(req, s.FileSystem.Flush(PathOf(s, node), ref *fi));
        }
        catch (Exception e) { Fail(req, e); }
    }

    [UnmanagedCallersOnly]
    static void Release(nint req, ulong node, FuseFileInfo* fi)
    {
        try
        {
            var s = MountState.EnterCallback(req);
            s.FileSystem.Release(PathOf(s, node), ref *fi);
            Status(req, 0); // the kernel does not wait for, nor look at, the result
        }
        catch (Exception e) { Fail(req, e); }
    }

    [UnmanagedCallersOnly]
    static void OpenDir(nint req, ulong node, FuseFileInfo* fi)
    {
        try { ServeOpen(req, node, fi, directory: true); }
        catch (Exception e) { Fail(req, e); }
    }

    [UnmanagedCallersOnly]
    static void ReadDir(nint req, ulong node, nuint size, long offset, FuseFileInfo* fi) =>
        ServeReadDir(req, node, size, offset, fi, plus: false);

    [UnmanagedCallersOnly]
    static void ReadDirPlus(nint req, ulong node, nuint size, long offset, FuseFileInfo* fi) =>
        ServeReadDir(req, node, size, offset, fi, plus: true);

    static void ServeReadDir(nint req, ulong node, nuint size, long offset, FuseFileInfo* fi, bool plus)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)size);
        try
        {
            var s = MountState.EnterCallback(req);
            fixed (byte* b = buffer)
            {
                var filler = new FuseDirectoryFiller(req, b, size, (ulong)offset, plus, node, s);
                var r = s.FileSystem.ReadDir(PathOf(s, node), ref filler, (ulong)offset,
                    plus ? FuseReadDirFlags.Plus : FuseReadDirFlags.None, new FuseFileInfoRef(fi));
                if (r < 0) Status(req, r);
                else LibFuse.ReplyBuf(req, b, filler.Used);
            }
        }
        catch (Exception e) { Fail(req, e); }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    [UnmanagedCallersOnly]
    static void ReleaseDir(nint req, ulong node, FuseFileInfo* fi)
    {
        try
        {
            var s = MountState.EnterCallback(req);
            s.FileSystem.ReleaseDir(PathOf(s, node), ref *fi);
            Status(req, 0);
        }
        catch (Exception e) { Fail(req, e); }
    }

    [UnmanagedCallersOnly]
    static void StatFs(nint req, ulong node)
    {
        try
        {
            var s = MountState.EnterCallback(req);
            var stat = default(FuseStatVfs);
            var r = s.FileSystem.StatFs(PathOf(s, node), ref stat);
            if (r < 0) Status(req, r);
            else LibFuse.ReplyStatFs(req, &stat);
        }
        catch (Exception e) { Fail(req, e); }
    }

    [UnmanagedCallersOnly]
    static void GetXAttr(nint req, ulong node, byte* name, nuint size)
    {
        try
        {
            var s = MountState.EnterCallback(req);
            var path = PathOf(s, node);
            XAttrReply(req, size, buffer => s.FileSystem.GetXAttr(path, Name(name), buffer));
        }
        catch (Exception e) { Fail(req, e); }
    }

    [UnmanagedCallersOnly]
    static void ListXAttr(nint req, ulong node, nuint size)
    {
        try
        {
            var s = MountState.EnterCallback(req);
            var path = PathOf(s, node);
            XAttrReply(req, size, buffer => s.FileSystem.ListXAttr(path, buffer));
        }
        catch (Exception e) { Fail(req, e); }
    }

    delegate int XAttrCall(Span<byte> buffer);

    /// <summary>Size 0 asks only for the length the value needs; otherwise the value itself.</summary>
    static void XAttrReply(nint req, nuint size, XAttrCall call)
    {
        if (size == 0)
        {
            var r = call(default);
            if (r < 0) Status(req, r);
            else LibFuse.ReplyXAttr(req, (nuint)r);
            return;
        }
        var buffer = ArrayPool<byte>.Shared.Rent((int)size);
        try
        {
            var r = call(buffer.AsSpan(0, (int)size));
            if (r < 0) Status(req, r);
            else fixed (byte* b = buffer) LibFuse.ReplyBuf(req, b, (nuint)Count(r, size));
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    [UnmanagedCallersOnly]
    static void Access(nint req, ulong node, int mask)
    {
        try
        {
            var s = MountState.EnterCallback(req);
            Status(req, s.FileSystem.Access(PathOf(s, node), mask));
        }
        catch (Exception e) { Fail(req, e); }
    }

    [UnmanagedCallersOnly]
    static void Create(nint req, ulong parent, byte* name, uint mode, FuseFileInfo* fi)
    {
        try
        {
            var s = MountState.EnterCallback(req);
            var path = PathOf(s, parent, name);
            var r = s.FileSystem.Create(path, mode, ref *fi);
            if (r < 0)
            {
                Status(req, r);
                return;
            }
            ApplyOptions(s, fi);
            bool delivered;
            try { delivered = ReplyEntry(req, s, parent, name, path, fi); }
            catch (Exception)
            {
                s.FileSystem.Release(path, ref *fi);
                throw;
            }
            if (delivered) return;
            try { s.FileSystem.Release(path, ref *fi); }
            catch (Exception e) { Report(s, e); }
        }
        catch (Exception e) { Fail(req, e); }
    }
}
