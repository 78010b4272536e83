namespace QomFs.Fuse;

/// <summary>
/// A file system whose files are named by path, as in libfuse's high-level API. Every method returns 0 (or a count) on
/// success or a NEGATIVE errno, e.g. <c>-Errno.ENOENT</c>; throwing <see cref="FuseException"/> does the same,
/// and any other exception becomes -EIO. Methods run concurrently on libfuse's worker threads.
/// Paths are raw bytes (absolute, starting with '/'); <see cref="FusePath.GetString"/> makes a string. A file
/// unlinked while open is named by an empty path.
/// The defaults mirror what the Linux VFS answers for a file system that lacks the operation.
/// </summary>
public interface IFuseFileSystem
{
    /// <summary>stat(2). <paramref name="stat"/> arrives zeroed.</summary>
    int GetAttr(ReadOnlySpan<byte> path, ref FuseStat stat, FuseFileInfoRef fi);

    /// <summary>
    /// Whether <paramref name="path"/>'s attributes change with no one telling the kernel (a stream whose size grows
    /// as it fills): the kernel then keeps them for no time at all, whatever the mount's attribute timeout, and asks
    /// again at each stat(2). Asked at each GETATTR and LOOKUP, so it must be cheap.
    /// </summary>
    bool HasVolatileAttributes(ReadOnlySpan<byte> path) => false;

    /// <summary>
    /// Lists a directory: add every entry (including "." and ".." if wanted) on every call, in a stable order;
    /// <paramref name="filler"/> skips what the kernel already has (see <see cref="FuseDirectoryFiller"/>).
    /// <paramref name="offset"/> is the number of entries already delivered, for file systems that want to skip
    /// work; <paramref name="flags"/> tells whether the kernel asked for attributes too.
    /// </summary>
    int ReadDir(ReadOnlySpan<byte> path, ref FuseDirectoryFiller filler, ulong offset, FuseReadDirFlags flags, FuseFileInfoRef fi);

    /// <summary>readlink(2): write the target into <paramref name="buffer"/> (truncate if too long). The buffer arrives
    /// zeroed, so a shorter target is NUL-terminated already.</summary>
    int ReadLink(ReadOnlySpan<byte> path, Span<byte> buffer) => -Errno.EINVAL;

    /// <summary>
    /// open(2) of an existing file. May set <see cref="FuseFileInfo.FileHandle"/>, DirectIo, KeepCache, NonSeekable.
    /// Returning -ENOSYS means success, and that no file needs Open or Release at all: the kernel stops sending them
    /// for the rest of the mount, calls Read and Write with a FileHandle of 0, and keeps file pages cached for as
    /// long as the file's attributes are valid (a changed size or modification time drops them).
    /// </summary>
    int Open(ReadOnlySpan<byte> path, ref FuseFileInfo fi) => 0;

    /// <summary>Reads into <paramref name="buffer"/> at <paramref name="offset"/>; returns the byte count, 0 at end of file.</summary>
    int Read(ReadOnlySpan<byte> path, ulong offset, Span<byte> buffer, ref FuseFileInfo fi) => -Errno.EINVAL;

    /// <summary>
    /// What the mount calls for a read. A read that waits for something else (a reply on a socket) can return a
    /// task that is not complete: the worker thread goes back to the kernel at once, and the thread that completes
    /// the task answers the request, which saves the hand-over to a waiting worker. <paramref name="buffer"/>
    /// belongs to the read until the task completes. The default calls <see cref="Read"/>.
    /// </summary>
    ValueTask<int> ReadAsync(ReadOnlySpan<byte> path, ulong offset, Memory<byte> buffer, FuseFileInfo fi) =>
        new(Read(path, offset, buffer.Span, ref fi));

    /// <summary>
    /// The caller of a read still in flight (a <see cref="ReadAsync"/> task not complete) got a signal: the read
    /// should end soon, with -EINTR, completing its task on another thread (this one holds libfuse's lock on the
    /// request). A read that is bound to end soon anyway may ignore it, as the default does.
    /// </summary>
    void ReadInterrupted(ulong fileHandle) { }

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>; returns the byte count written.</summary>
    int Write(ReadOnlySpan<byte> path, ulong offset, ReadOnlySpan<byte> data, ref FuseFileInfo fi) => -Errno.EINVAL;

    /// <summary>truncate(2), and open(2) with O_TRUNC, which arrives as Truncate(path, 0) right after Open
    /// (the binding turns atomic O_TRUNC off so that Open never has to look for the flag).</summary>
    int Truncate(ReadOnlySpan<byte> path, ulong length, FuseFileInfoRef fi) => -Errno.EPERM;

    /// <summary>Called on each close(2) of a descriptor (possibly several per Open); the place to report write errors.
    /// Returning -ENOSYS makes the kernel stop sending it for the rest of the mount.</summary>
    int Flush(ReadOnlySpan<byte> path, ref FuseFileInfo fi) => 0;

    /// <summary>The last close of an Open; the result is ignored by the kernel.</summary>
    int Release(ReadOnlySpan<byte> path, ref FuseFileInfo fi) => 0;

    /// <summary>
    /// opendir(2). May set <see cref="FuseFileInfo.FileHandle"/>, and <see cref="FuseFileInfo.CacheReaddir"/> (with
    /// KeepCache to keep the cached listing across opens). Returning -ENOSYS means success, and that no directory
    /// needs OpenDir or ReleaseDir at all: the kernel stops sending them for the rest of the mount, and caches
    /// every listing it reads until the directory's modification time changes or it is invalidated.
    /// </summary>
    int OpenDir(ReadOnlySpan<byte> path, ref FuseFileInfo fi) => 0;

    int ReleaseDir(ReadOnlySpan<byte> path, ref FuseFileInfo fi) => 0;

    /// <summary>open(2) with O_CREAT of a missing file. The default -EACCES is what the VFS answers for a directory
    /// that cannot create files (returning -ENOSYS would make the kernel retry with Mknod).</summary>
    int Create(ReadOnlySpan<byte> path, uint mode, ref FuseFileInfo fi) => -Errno.EACCES;

    int Mknod(ReadOnlySpan<byte> path, uint mode, ulong device) => -Errno.EPERM;

    int Mkdir(ReadOnlySpan<byte> path, uint mode) => -Errno.EPERM;

    int Unlink(ReadOnlySpan<byte> path) => -Errno.EPERM;

    int Rmdir(ReadOnlySpan<byte> path) => -Errno.EPERM;

    /// <summary>rename(2); <paramref name="flags"/> are renameat2's RENAME_NOREPLACE (1) / RENAME_EXCHANGE (2).</summary>
    int Rename(ReadOnlySpan<byte> from, ReadOnlySpan<byte> to, uint flags) => -Errno.EPERM;

    int Chmod(ReadOnlySpan<byte> path, uint mode, FuseFileInfoRef fi) => -Errno.EPERM;

    /// <summary>chown(2); a value of uint.MaxValue means "leave unchanged".</summary>
    int Chown(ReadOnlySpan<byte> path, uint uid, uint gid, FuseFileInfoRef fi) => -Errno.EPERM;

    /// <summary>utimensat(2); either time may be <see cref="FuseTimespec.UTIME_NOW"/> or UTIME_OMIT in Nanoseconds.
    /// <c>touch</c> of an existing file needs this to succeed; returning 0 without storing anything is acceptable.</summary>
    int Utimens(ReadOnlySpan<byte> path, in FuseTimespec access, in FuseTimespec modification, FuseFileInfoRef fi) => -Errno.EPERM;

    /// <summary>
    /// getxattr(2): an empty <paramref name="value"/> asks for the size; a too-small one must get -ERANGE;
    /// an absent attribute is -ENODATA. <see cref="FuseXAttr.Copy"/> implements the size rules.
    /// The default -ENOSYS makes the kernel stop asking for the rest of the mount (it then answers EOPNOTSUPP itself).
    /// </summary>
    int GetXAttr(ReadOnlySpan<byte> path, ReadOnlySpan<byte> name, Span<byte> value) => -Errno.ENOSYS;

    /// <summary>listxattr(2): NUL-terminated names back to back, same size rules as <see cref="GetXAttr"/>.</summary>
    int ListXAttr(ReadOnlySpan<byte> path, Span<byte> list) => -Errno.ENOSYS;

    /// <summary>statfs(2). The default reports what libfuse reports without a statfs handler.</summary>
    int StatFs(ReadOnlySpan<byte> path, ref FuseStatVfs stat)
    {
        stat.BlockSize = 512;
        stat.NameMax = 255;
        return 0;
    }

    /// <summary>access(2) (not called with the default_permissions option, where the kernel checks modes itself).
    /// The default -ENOSYS makes the kernel treat every later access(2) as allowed.</summary>
    int Access(ReadOnlySpan<byte> path, int mask) => -Errno.ENOSYS;

    /// <summary>Called once, on the thread that ran <see cref="FuseMount.Run"/>, after the loop has ended.</summary>
    void Destroy() { }
}
