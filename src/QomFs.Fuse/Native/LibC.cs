using System.Runtime.InteropServices;

namespace QomFs.Fuse.Native;

/// <summary>The few libc calls the binding needs: versioned symbol lookup, unmounting and an uncached stat.</summary>
internal static unsafe partial class LibC
{
    internal const int MNT_DETACH = 2;
    internal const int AT_FDCWD = -100;
    /// <summary>statx: ask the file system even if attributes are cached (FUSE sends a GETATTR).</summary>
    internal const int AT_STATX_FORCE_SYNC = 0x2000;
    internal const uint STATX_TYPE = 1;

    [LibraryImport("libc", EntryPoint = "dlvsym", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint DlVSym(nint handle, string symbol, string version);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Umount2(string target, int flags);

    /// <summary>statx into a caller-provided 256-byte buffer; only success or errno matters to us.</summary>
    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    internal static partial uint GetEuid();

    /// <summary>statx with AT_STATX_FORCE_SYNC; returns 0 or the errno.</summary>
    internal static int ForcedStat(string path)
    {
        var buffer = stackalloc byte[256];
        return Statx(AT_FDCWD, path, AT_STATX_FORCE_SYNC, STATX_TYPE, buffer) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }
}
