using System.Runtime.InteropServices;
using QomFs.Fuse.Native;

namespace QomFs.Fuse;

/// <summary>
/// The <c>struct fuse_operations</c> callbacks: each unpacks native arguments into spans and refs, calls the
/// <see cref="IFuseFileSystem"/> of the mount, and turns every exception into a negative errno, because an
/// exception unwinding into libfuse's C frames would take the process down.
/// </summary>
internal static unsafe class FuseOperations
{
    /// <summary>PATH_MAX + 1: the buffer libfuse passes to readlink.</summary>
    const int MaxReadLink = 4097;

    public static FuseOperationsNative Table => new()
    {
        GetAttr = &GetAttr,
        ReadLink = &ReadLink,
        Mknod = &Mknod,
        Mkdir = &Mkdir,
        Unlink = &Unlink,
        Rmdir = &Rmdir,
        Rename = &Rename,
        Chmod = &Chmod,
        Chown = &Chown,
        Truncate = &Truncate,
        Open = &Open,
        Read = &Read,
        Write = &Write,
        StatFs = &StatFs,
        Flush = &Flush,
        Release = &Release,
        GetXAttr = &GetXAttr,
        ListXAttr = &ListXAttr,
        OpenDir = &OpenDir,
        ReadDir = &ReadDir,
        ReleaseDir = &ReleaseDir,
        Init = &Init,
        Destroy = &Destroy,
        Access = &Access,
        Create = &Create,
        Utimens = &Utimens,
    };

    static IFuseFileSystem Fs => MountState.Current.FileSystem;

    /// <summary>libfuse may pass NULL (e.g. release of a file whose path is gone); that becomes an empty span.</summary>
    static ReadOnlySpan<byte> Path(byte* path) =>
        path == null ? default : MemoryMarshal.CreateReadOnlySpanFromNullTerminated(path);

    static int Fail(Exception e)
    {
        if (e is FuseException f) return -f.Errno;
        try { MountState.Current.Options.UnhandledException?.Invoke(e); }
        catch (Exception) { /* a failing logger must not fail the request differently */ }
        return -Errno.EIO;
    }

    /// <summary>A byte count above what was asked for would make libfuse reply garbage; treat it as a bug.</summary>
    static int Count(int result, nuint size) => result > (long)size ? -Errno.EIO : result;

    static int Span(nuint size) => (int)Math.Min(size, int.MaxValue);

    [UnmanagedCallersOnly]
    static int GetAttr(byte* path, FuseStat* stat, FuseFileInfo* fi)
    {
        try { return Fs.GetAttr(Path(path), ref *stat, new FuseFileInfoRef(fi)); }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int ReadLink(byte* path, byte* buffer, nuint size)
    {
        try
        {
            var target = new Span<byte>(buffer, (int)Math.Min(size, MaxReadLink));
            target.Clear();
            var r = Fs.ReadLink(Path(path), target);
            return r > 0 ? 0 : r;
        }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int Mknod(byte* path, uint mode, ulong device)
    {
        try { return Fs.Mknod(Path(path), mode, device); }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int Mkdir(byte* path, uint mode)
    {
        try { return Fs.Mkdir(Path(path), mode); }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int Unlink(byte* path)
    {
        try { return Fs.Unlink(Path(path)); }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int Rmdir(byte* path)
    {
        try { return Fs.Rmdir(Path(path)); }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int Rename(byte* from, byte* to, uint flags)
    {
        try { return Fs.Rename(Path(from), Path(to), flags); }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int Chmod(byte* path, uint mode, FuseFileInfo* fi)
    {
        try { return Fs.Chmod(Path(path), mode, new FuseFileInfoRef(fi)); }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int Chown(byte* path, uint uid, uint gid, FuseFileInfo* fi)
    {
        try { return Fs.Chown(Path(path), uid, gid, new FuseFileInfoRef(fi)); }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int Truncate(byte* path, long length, FuseFileInfo* fi)
    {
        try { return length < 0 ? -Errno.EINVAL : Fs.Truncate(Path(path), (ulong)length, new FuseFileInfoRef(fi)); }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int Open(byte* path, FuseFileInfo* fi)
    {
        try { return Fs.Open(Path(path), ref *fi); }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int Read(byte* path, byte* buffer, nuint size, long offset, FuseFileInfo* fi)
    {
        try { return Count(Fs.Read(Path(path), (ulong)offset, new Span<byte>(buffer, Span(size)), ref *fi), size); }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int Write(byte* path, byte* data, nuint size, long offset, FuseFileInfo* fi)
    {
        try { return Count(Fs.Write(Path(path), (ulong)offset, new ReadOnlySpan<byte>(data, Span(size)), ref *fi), size); }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int StatFs(byte* path, FuseStatVfs* stat)
    {
        try { return Fs.StatFs(Path(path), ref *stat); }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int Flush(byte* path, FuseFileInfo* fi)
    {
        try { return Fs.Flush(Path(path), ref *fi); }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int Release(byte* path, FuseFileInfo* fi)
    {
        try { return Fs.Release(Path(path), ref *fi); }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int GetXAttr(byte* path, byte* name, byte* value, nuint size)
    {
        try
        {
            var buffer = value == null ? default : new Span<byte>(value, Span(size));
            return Count(Fs.GetXAttr(Path(path), Path(name), buffer), size == 0 ? int.MaxValue : size);
        }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int ListXAttr(byte* path, byte* list, nuint size)
    {
        try
        {
            var buffer = list == null ? default : new Span<byte>(list, Span(size));
            return Count(Fs.ListXAttr(Path(path), buffer), size == 0 ? int.MaxValue : size);
        }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int OpenDir(byte* path, FuseFileInfo* fi)
    {
        try { return Fs.OpenDir(Path(path), ref *fi); }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int ReadDir(byte* path, void* buffer, delegate* unmanaged<void*, byte*, FuseStat*, long, int, int> fill,
        long offset, FuseFileInfo* fi, int flags)
    {
        try
        {
            var readDirFlags = (FuseReadDirFlags)flags;
            var filler = new FuseDirectoryFiller(buffer, fill, (ulong)offset, readDirFlags.HasFlag(FuseReadDirFlags.Plus));
            return Fs.ReadDir(Path(path), ref filler, (ulong)offset, readDirFlags, new FuseFileInfoRef(fi));
        }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int ReleaseDir(byte* path, FuseFileInfo* fi)
    {
        try { return Fs.ReleaseDir(Path(path), ref *fi); }
        catch (Exception e) { return Fail(e); }
    }

    /// <summary>
    /// Applies the cache options. use_ino stays off (libfuse assigns inode numbers) and nullpath_ok stays off,
    /// because every IFuseFileSystem method works by path and must get one. Atomic O_TRUNC is turned off so that
    /// open(2) with O_TRUNC reaches the file system as Truncate(path, 0) rather than as a flag Open must notice.
    /// </summary>
    [UnmanagedCallersOnly]
    static void* Init(FuseConnInfo* connection, FuseConfig* config)
    {
        var privateData = LibFuse.GetContext()->PrivateData;
        try
        {
            var options = MountState.FromPrivateData(privateData).Options;
            config->EntryTimeout = options.EntryTimeout;
            config->AttrTimeout = options.AttrTimeout;
            config->NegativeTimeout = options.NegativeTimeout;
            config->KernelCache = options.KernelCache ? 1 : 0;
            config->AutoCache = 0;
            config->DirectIo = options.DirectIo ? 1 : 0;
            config->UseIno = 0;
            config->NullPathOk = 0;
            connection->Want &= ~FuseConnInfo.FUSE_CAP_ATOMIC_O_TRUNC;
            if (options.AttributesWithEveryBatch) connection->Want &= ~FuseConnInfo.FUSE_CAP_READDIRPLUS_AUTO;
        }
        catch (Exception e) { Fail(e); }
        return privateData;
    }

    [UnmanagedCallersOnly]
    static void Destroy(void* privateData)
    {
        try { MountState.FromPrivateData(privateData).FileSystem.Destroy(); }
        catch (Exception e) { Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int Access(byte* path, int mask)
    {
        try { return Fs.Access(Path(path), mask); }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int Create(byte* path, uint mode, FuseFileInfo* fi)
    {
        try { return Fs.Create(Path(path), mode, ref *fi); }
        catch (Exception e) { return Fail(e); }
    }

    [UnmanagedCallersOnly]
    static int Utimens(byte* path, FuseTimespec* times, FuseFileInfo* fi)
    {
        try
        {
            var now = new FuseTimespec { Nanoseconds = FuseTimespec.UTIME_NOW };
            return times == null
                ? Fs.Utimens(Path(path), in now, in now, new FuseFileInfoRef(fi))
                : Fs.Utimens(Path(path), in times[0], in times[1], new FuseFileInfoRef(fi));
        }
        catch (Exception e) { return Fail(e); }
    }
}
