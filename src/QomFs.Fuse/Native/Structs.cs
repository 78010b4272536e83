using System.Runtime.InteropServices;

namespace QomFs.Fuse.Native;

// Layouts from /usr/include/fuse3 (libfuse 3.14, FUSE_USE_VERSION 314, fuse_lowlevel.h) for x86_64. Only the members this binding
// touches are declared, each at its explicit offset; Size covers the rest. The layout test checks every offset
// and size here against gcc, so a mistake fails a test instead of corrupting libfuse's memory.

/// <summary><c>struct fuse_args</c>: the argv handed to fuse_session_new.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal unsafe struct FuseArgs
{
    [FieldOffset(0)] public int Argc;
    [FieldOffset(8)] public byte** Argv;
    [FieldOffset(16)] public int Allocated;
}

/// <summary><c>struct fuse_conn_info</c>: the capabilities negotiated with the kernel, adjusted in the init callback.</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct FuseConnInfo
{
    /// <summary>open(2) passes O_TRUNC to the open handler instead of truncating first (on by default in 3.14).</summary>
    public const uint FUSE_CAP_ATOMIC_O_TRUNC = 1 << 3;
    /// <summary>READDIRPLUS for the first batch of a listing only, unless lookups came meanwhile (on by default).</summary>
    public const uint FUSE_CAP_READDIRPLUS_AUTO = 1 << 14;
    /// <summary>The kernel checks POSIX ACLs itself and caches them (off by default).</summary>
    public const uint FUSE_CAP_POSIX_ACL = 1 << 19;

    [FieldOffset(20)] public uint Capable;
    [FieldOffset(24)] public uint Want;
}

/// <summary><c>struct fuse_ctx</c>: who made a request (fuse_req_ctx).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct FuseCtx
{
    [FieldOffset(0)] public uint Uid;
    [FieldOffset(4)] public uint Gid;
    [FieldOffset(8)] public int Pid;
    [FieldOffset(12)] public uint Umask;
}

/// <summary><c>struct fuse_entry_param</c>: a name's node id and attributes, with how long the kernel may keep each.</summary>
[StructLayout(LayoutKind.Explicit, Size = 176)]
internal struct FuseEntryParam
{
    [FieldOffset(0)] public ulong Ino;
    [FieldOffset(8)] public ulong Generation;
    [FieldOffset(16)] public FuseStat Attr;
    [FieldOffset(160)] public double AttrTimeout;
    [FieldOffset(168)] public double EntryTimeout;
}

/// <summary><c>struct fuse_forget_data</c>: one node of a batch forget.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct FuseForgetData
{
    [FieldOffset(0)] public ulong Ino;
    [FieldOffset(8)] public ulong NLookup;
}

/// <summary><c>fuse_setattr</c>'s to_set bits (FUSE_SET_ATTR_*).</summary>
[Flags]
internal enum SetAttrFlags
{
    Mode = 1 << 0,
    Uid = 1 << 1,
    Gid = 1 << 2,
    Size = 1 << 3,
    AccessTime = 1 << 4,
    ModificationTime = 1 << 5,
    AccessTimeNow = 1 << 7,
    ModificationTimeNow = 1 << 8,
}

/// <summary>
/// <c>struct fuse_lowlevel_ops</c>: 44 function pointers (init ... lseek). Members left NULL make libfuse answer
/// ENOSYS (release and forget: success). fuse_session_new copies the struct, so it need not outlive the call.
/// Every callback but init, destroy and the forgets must answer its request exactly once with a fuse_reply_*.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 44 * 8)]
internal unsafe struct FuseLowLevelOps
{
    [FieldOffset(0 * 8)] public delegate* unmanaged<void*, FuseConnInfo*, void> Init;
    [FieldOffset(1 * 8)] public delegate* unmanaged<void*, void> Destroy;
    [FieldOffset(2 * 8)] public delegate* unmanaged<nint, ulong, byte*, void> Lookup;
    [FieldOffset(3 * 8)] public delegate* unmanaged<nint, ulong, ulong, void> Forget;
    [FieldOffset(4 * 8)] public delegate* unmanaged<nint, ulong, FuseFileInfo*, void> GetAttr;
    [FieldOffset(5 * 8)] public delegate* unmanaged<nint, ulong, FuseStat*, int, FuseFileInfo*, void> SetAttr;
    [FieldOffset(6 * 8)] public delegate* unmanaged<nint, ulong, void> ReadLink;
    [FieldOffset(7 * 8)] public delegate* unmanaged<nint, ulong, byte*, uint, ulong, void> Mknod;
    [FieldOffset(8 * 8)] public delegate* unmanaged<nint, ulong, byte*, uint, void> Mkdir;
    [FieldOffset(9 * 8)] public delegate* unmanaged<nint, ulong, byte*, void> Unlink;
    [FieldOffset(10 * 8)] public delegate* unmanaged<nint, ulong, byte*, void> Rmdir;
    [FieldOffset(12 * 8)] public delegate* unmanaged<nint, ulong, byte*, ulong, byte*, uint, void> Rename;
    [FieldOffset(14 * 8)] public delegate* unmanaged<nint, ulong, FuseFileInfo*, void> Open;
    [FieldOffset(15 * 8)] public delegate* unmanaged<nint, ulong, nuint, long, FuseFileInfo*, void> Read;
    [FieldOffset(16 * 8)] public delegate* unmanaged<nint, ulong, byte*, nuint, long, FuseFileInfo*, void> Write;
    [FieldOffset(17 * 8)] public delegate* unmanaged<nint, ulong, FuseFileInfo*, void> Flush;
    [FieldOffset(18 * 8)] public delegate* unmanaged<nint, ulong, FuseFileInfo*, void> Release;
    [FieldOffset(20 * 8)] public delegate* unmanaged<nint, ulong, FuseFileInfo*, void> OpenDir;
    [FieldOffset(21 * 8)] public delegate* unmanaged<nint, ulong, nuint, long, FuseFileInfo*, void> ReadDir;
    [FieldOffset(22 * 8)] public delegate* unmanaged<nint, ulong, FuseFileInfo*, void> ReleaseDir;
    [FieldOffset(24 * 8)] public delegate* unmanaged<nint, ulong, void> StatFs;
    [FieldOffset(26 * 8)] public delegate* unmanaged<nint, ulong, byte*, nuint, void> GetXAttr;
    [FieldOffset(27 * 8)] public delegate* unmanaged<nint, ulong, nuint, void> ListXAttr;
    [FieldOffset(29 * 8)] public delegate* unmanaged<nint, ulong, int, void> Access;
    [FieldOffset(30 * 8)] public delegate* unmanaged<nint, ulong, byte*, uint, FuseFileInfo*, void> Create;
    [FieldOffset(38 * 8)] public delegate* unmanaged<nint, nuint, FuseForgetData*, void> ForgetMulti;
    [FieldOffset(41 * 8)] public delegate* unmanaged<nint, ulong, nuint, long, FuseFileInfo*, void> ReadDirPlus;
}

/// <summary><c>struct fuse_buf</c>: one buffer of a vector; here always memory (flags 0), never a descriptor.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal unsafe struct FuseBuf
{
    [FieldOffset(0)] public nuint Size;
    [FieldOffset(8)] public int Flags;
    [FieldOffset(16)] public void* Mem;
    [FieldOffset(24)] public int Fd;
    [FieldOffset(32)] public long Pos;
}

/// <summary><c>struct fuse_bufvec</c> with its one buffer, as FUSE_BUFVEC_INIT makes it.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct FuseBufVec
{
    [FieldOffset(0)] public nuint Count;
    [FieldOffset(8)] public nuint Index;
    [FieldOffset(16)] public nuint Offset;
    [FieldOffset(24)] public FuseBuf Buf;
}
