using System.Runtime.InteropServices;

namespace QomFs.Qmp;

/// <summary>
/// Every libc call the protocol layer makes, with the constants and structs of their ABI: the sockets that
/// <see cref="SocketConnector"/> opens and <see cref="RawSocket"/> reads and writes without .NET's socket engine.
/// </summary>
internal static unsafe partial class LibC
{
    internal const int EINTR = 4, EAGAIN = 11, ENOENT = 2, ECONNREFUSED = 111;
    internal const int AF_UNIX = 1, AF_VSOCK = 40, SOCK_STREAM = 1, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
    internal const int SHUT_RDWR = 2, MSG_NOSIGNAL = 0x4000, MSG_DONTWAIT = 0x40;
    internal const short POLLIN = 1, POLLOUT = 4;
    internal const int SunPathLength = 108;

    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct SockaddrUn
    {
        public ushort Family;
        public fixed byte Path[SunPathLength];
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct SockaddrVm
    {
        public ushort Family;
        public ushort Reserved1;
        public uint Port;
        public uint Cid;
        public uint Flags; // svm_flags and svm_zero: must be zero
    }

    [LibraryImport("libc", EntryPoint = "chmod", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Chmod(string path, uint mode);

    const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;
    const uint STATX_TYPE = 1;
    const int StxModeOffset = 28; // struct statx: mask, blksize (u32 each), attributes (u64), nlink, uid, gid (u32), mode (u16)
    const ushort S_IFMT = 0xF000, S_IFSOCK = 0xC000;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    /// <summary>Whether <paramref name="path"/> is a unix socket (.NET's file APIs do not tell); false if it is absent.</summary>
    /// <param name="followLinks">false: a symbolic link to a socket is no socket.</param>
    internal static bool IsSocket(string path, bool followLinks) => FileType(path, followLinks) == S_IFSOCK;

    /// <summary>Whether something that is not a socket is at <paramref name="path"/>, links followed.</summary>
    internal static bool IsOtherThanSocket(string path) => FileType(path, followLinks: true) is not (0 or S_IFSOCK);

    // The S_IFMT bits of the file's mode, or 0 if there is none. statx reads no file, so a device has no open to see.
    static ushort FileType(string path, bool followLinks)
    {
        var buffer = stackalloc byte[256];
        return Statx(AT_FDCWD, path, followLinks ? 0 : AT_SYMLINK_NOFOLLOW, STATX_TYPE, buffer) == 0
            ? (ushort)(*(ushort*)(buffer + StxModeOffset) & S_IFMT) : (ushort)0;
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)] internal static partial int Socket(int domain, int type, int protocol);
    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)] internal static partial int Connect(int fd, void* addr, int len);
    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)] internal static partial nint Recv(int fd, byte* buffer, nint length, int flags);
    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)] internal static partial nint Send(int fd, byte* buffer, nint length, int flags);
    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)] internal static partial int Poll(PollFd* fds, nuint count, int timeout);
    [LibraryImport("libc", EntryPoint = "shutdown")] internal static partial int Shutdown(int fd, int how);
    [LibraryImport("libc", EntryPoint = "close")] internal static partial int Close(int fd);
}
