using System.Runtime.InteropServices;

namespace QomFs;

/// <summary>The libc calls the filesystem makes: who mounts it, so that its entries are theirs; what kind a file is; the mode of the private runtime directory.</summary>
internal static unsafe partial class LibC
{
    [LibraryImport("libc", EntryPoint = "getuid")] internal static partial uint GetUid();
    [LibraryImport("libc", EntryPoint = "getgid")] internal static partial uint GetGid();
    [LibraryImport("libc", EntryPoint = "chmod", StringMarshalling = StringMarshalling.Utf8)] internal static partial int Chmod(string path, uint mode);

    const int AT_FDCWD = -100;
    const uint STATX_TYPE = 1;
    const int StxModeOffset = 28; // struct statx: mask, blksize (u32 each), attributes (u64), nlink, uid, gid (u32), mode (u16)
    const ushort S_IFMT = 0xF000, S_IFSOCK = 0xC000;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    /// <summary>Whether the path is a unix socket, following symbolic links (.NET's file APIs do not tell).</summary>
    internal static bool IsSocket(string path)
    {
        var buffer = stackalloc byte[256];
        return Statx(AT_FDCWD, path, 0, STATX_TYPE, buffer) == 0 && (*(ushort*)(buffer + StxModeOffset) & S_IFMT) == S_IFSOCK;
    }
}
