using System.Runtime.InteropServices;

namespace QomFs.Fuse;

/// <summary>
/// <c>struct statvfs</c> on x86_64 (112 bytes; no <c>__f_unused</c> on 64-bit). StatFs fills it in place;
/// the trailing <c>__f_spare[6]</c> is covered by Size.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 112)]
public struct FuseStatVfs
{
    public ulong BlockSize;
    public ulong FragmentSize;
    public ulong Blocks;
    public ulong BlocksFree;
    public ulong BlocksAvailable;
    public ulong Files;
    public ulong FilesFree;
    public ulong FilesAvailable;
    /// <summary>f_fsid: ignored by FUSE.</summary>
    public ulong FileSystemId;
    /// <summary>f_flag: ignored by FUSE (the kernel reports the mount flags).</summary>
    public ulong Flags;
    public ulong NameMax;
}
