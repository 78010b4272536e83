using System.Runtime.InteropServices;

namespace QomFs.Fuse.Native;

// Layouts from /usr/include/fuse3 (libfuse 3.14, FUSE_USE_VERSION 314) for x86_64. Only the members this binding
// touches are declared, each at its explicit offset; Size covers the rest. The layout test checks every offset
// and size here against gcc, so a mistake fails a test instead of corrupting libfuse's memory.

/// <summary><c>struct fuse_args</c>: the argv handed to fuse_new.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal unsafe struct FuseArgs
{
    [FieldOffset(0)] public int Argc;
    [FieldOffset(8)] public byte** Argv;
    [FieldOffset(16)] public int Allocated;
}

/// <summary><c>struct fuse_config</c>: the high-level options, adjusted in the init callback.</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct FuseConfig
{
    [FieldOffset(24)] public double EntryTimeout;
    [FieldOffset(32)] public double NegativeTimeout;
    [FieldOffset(40)] public double AttrTimeout;
    [FieldOffset(64)] public int UseIno;
    [FieldOffset(72)] public int DirectIo;
    [FieldOffset(76)] public int KernelCache;
    [FieldOffset(80)] public int AutoCache;
    [FieldOffset(104)] public int NullPathOk;
}

/// <summary><c>struct fuse_conn_info</c>: the capabilities negotiated with the kernel, adjusted in the init callback.</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct FuseConnInfo
{
    /// <summary>open(2) passes O_TRUNC to the open handler instead of truncating first (on by default in 3.14).</summary>
    public const uint FUSE_CAP_ATOMIC_O_TRUNC = 1 << 3;
    /// <summary>READDIRPLUS for the first batch of a listing only, unless lookups came meanwhile (on by default).</summary>
    public const uint FUSE_CAP_READDIRPLUS_AUTO = 1 << 14;

    [FieldOffset(24)] public uint Want;
}

/// <summary><c>struct fuse_context</c>: the caller of the current request, and our private_data.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal unsafe struct FuseContextNative
{
    [FieldOffset(8)] public uint Uid;
    [FieldOffset(12)] public uint Gid;
    [FieldOffset(16)] public int Pid;
    [FieldOffset(24)] public void* PrivateData;
    [FieldOffset(32)] public uint Umask;
}

/// <summary>
/// <c>struct fuse_operations</c>: 42 function pointers (getattr ... lseek). Members left NULL make libfuse answer
/// ENOSYS. fuse_new copies the struct, so it need not outlive the call.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 42 * 8)]
internal unsafe struct FuseOperationsNative
{
    [FieldOffset(0 * 8)] public delegate* unmanaged<byte*, FuseStat*, FuseFileInfo*, int> GetAttr;
    [FieldOffset(1 * 8)] public delegate* unmanaged<byte*, byte*, nuint, int> ReadLink;
    [FieldOffset(2 * 8)] public delegate* unmanaged<byte*, uint, ulong, int> Mknod;
    [FieldOffset(3 * 8)] public delegate* unmanaged<byte*, uint, int> Mkdir;
    [FieldOffset(4 * 8)] public delegate* unmanaged<byte*, int> Unlink;
    [FieldOffset(5 * 8)] public delegate* unmanaged<byte*, int> Rmdir;
    [FieldOffset(7 * 8)] public delegate* unmanaged<byte*, byte*, uint, int> Rename;
    [FieldOffset(9 * 8)] public delegate* unmanaged<byte*, uint, FuseFileInfo*, int> Chmod;
    [FieldOffset(10 * 8)] public delegate* unmanaged<byte*, uint, uint, FuseFileInfo*, int> Chown;
    [FieldOffset(11 * 8)] public delegate* unmanaged<byte*, long, FuseFileInfo*, int> Truncate;
    [FieldOffset(12 * 8)] public delegate* unmanaged<byte*, FuseFileInfo*, int> Open;
    [FieldOffset(13 * 8)] public delegate* unmanaged<byte*, byte*, nuint, long, FuseFileInfo*, int> Read;
    [FieldOffset(14 * 8)] public delegate* unmanaged<byte*, byte*, nuint, long, FuseFileInfo*, int> Write;
    [FieldOffset(15 * 8)] public delegate* unmanaged<byte*, FuseStatVfs*, int> StatFs;
    [FieldOffset(16 * 8)] public delegate* unmanaged<byte*, FuseFileInfo*, int> Flush;
    [FieldOffset(17 * 8)] public delegate* unmanaged<byte*, FuseFileInfo*, int> Release;
    [FieldOffset(20 * 8)] public delegate* unmanaged<byte*, byte*, byte*, nuint, int> GetXAttr;
    [FieldOffset(21 * 8)] public delegate* unmanaged<byte*, byte*, nuint, int> ListXAttr;
    [FieldOffset(23 * 8)] public delegate* unmanaged<byte*, FuseFileInfo*, int> OpenDir;
    [FieldOffset(24 * 8)] public delegate* unmanaged<byte*, void*, delegate* unmanaged<void*, byte*, FuseStat*, long, int, int>, long, FuseFileInfo*, int, int> ReadDir;
    [FieldOffset(25 * 8)] public delegate* unmanaged<byte*, FuseFileInfo*, int> ReleaseDir;
    [FieldOffset(27 * 8)] public delegate* unmanaged<FuseConnInfo*, FuseConfig*, void*> Init;
    [FieldOffset(28 * 8)] public delegate* unmanaged<void*, void> Destroy;
    [FieldOffset(29 * 8)] public delegate* unmanaged<byte*, int, int> Access;
    [FieldOffset(30 * 8)] public delegate* unmanaged<byte*, uint, FuseFileInfo*, int> Create;
    [FieldOffset(32 * 8)] public delegate* unmanaged<byte*, FuseTimespec*, FuseFileInfo*, int> Utimens;
}
