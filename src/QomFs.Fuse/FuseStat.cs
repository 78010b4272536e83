using System.Runtime.InteropServices;

namespace QomFs.Fuse;

/// <summary>
/// <c>struct stat</c> exactly as glibc lays it out on x86_64 (144 bytes; st_nlink comes before st_mode there).
/// The binding hands it to libfuse as it is (GetAttr fills it in place), so this must never drift from the header;
/// the layout test checks every offset against gcc. The trailing <c>__glibc_reserved[3]</c> is covered by Size.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 144)]
public struct FuseStat
{
    public const uint S_IFMT = 0xF000;
    public const uint S_IFSOCK = 0xC000;
    public const uint S_IFLNK = 0xA000;
    public const uint S_IFREG = 0x8000;
    public const uint S_IFBLK = 0x6000;
    public const uint S_IFDIR = 0x4000;
    public const uint S_IFCHR = 0x2000;
    public const uint S_IFIFO = 0x1000;

    /// <summary>st_dev: ignored by FUSE.</summary>
    public ulong Device;
    /// <summary>st_ino: ignored; the binding reports the kernel's node id as the inode number.</summary>
    public ulong Inode;
    public ulong LinkCount;
    /// <summary>st_mode: a file type (S_IF*) or'ed with permission bits, e.g. <c>S_IFREG | 0x1A4</c> (0644).</summary>
    public uint Mode;
    public uint Uid;
    public uint Gid;
    public ulong RDevice;
    public long Size;
    /// <summary>st_blksize: ignored by FUSE.</summary>
    public long BlockSize;
    /// <summary>st_blocks: 512-byte blocks allocated, what <c>du</c> reports.</summary>
    public long Blocks;
    public FuseTimespec AccessTime;
    public FuseTimespec ModificationTime;
    public FuseTimespec ChangeTime;

    public readonly bool IsDirectory => (Mode & S_IFMT) == S_IFDIR;
    public readonly bool IsRegularFile => (Mode & S_IFMT) == S_IFREG;
    public readonly bool IsSymbolicLink => (Mode & S_IFMT) == S_IFLNK;

    /// <summary>Sets access, modification and change time at once, the usual case for synthetic files.</summary>
    public void SetAllTimes(DateTimeOffset time) =>
        AccessTime = ModificationTime = ChangeTime = FuseTimespec.FromDateTimeOffset(time);
}
