using System.Runtime.InteropServices;

namespace QomFs.Cli;

/// <summary>
/// Every libc call the CLI makes (bound at link time: DirectPInvoke in the project file), and the errno handling its
/// callers share. GNU readline's own calls are in <see cref="Shell.Readline"/>.
/// </summary>
internal static unsafe partial class LibC
{
    internal const int EINTR = 4, EAGAIN = 11, EPIPE = 32;
    internal const short POLLIN = 0x1, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20;
    internal const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;
    internal const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80, O_TRUNC = 0x200, O_APPEND = 0x400, O_CLOEXEC = 0x80000;

    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)] internal static partial int Poll(PollFd* fds, nuint count, int timeout);
    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)] internal static partial nint Read(int fd, byte* buffer, nuint count);
    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)] internal static partial nint Write(int fd, byte* buffer, nuint count);
    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)] internal static partial int EventFd(uint initval, int flags);
    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] internal static partial int Open(string path, int flags, uint mode);
    [LibraryImport("libc", EntryPoint = "dup2")] internal static partial int Dup2(int from, int to);
    [LibraryImport("libc", EntryPoint = "close")] internal static partial int Close(int fd);
    [LibraryImport("libc", EntryPoint = "setsid")] internal static partial int SetSid();
    [LibraryImport("libc", EntryPoint = "isatty")] private static partial int IsATty(int fd);
    [LibraryImport("libc", EntryPoint = "fflush")] private static partial int FFlush(nint stream);
    [LibraryImport("libc", EntryPoint = "free")] internal static partial void Free(void* p);

    internal static bool IsTerminal(int fd) => IsATty(fd) == 1;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)] private static partial int FcntlGetFd(int fd, int command);
    private const int F_GETFD = 1, EBADF = 9;

    /// <summary>
    /// Holds each of fds 0, 1 and 2 that the program was started without (<c>qmp-shell &lt;&amp;-</c>) with /dev/null,
    /// opened for the other direction. Otherwise the next file opened takes that number: the shell would read its
    /// commands from it (the runtime's /dev/urandom, random commands sent to QEMU), a value would be written into the
    /// QMP socket. This way each use still fails with EBADF, as on the closed descriptor.
    /// </summary>
    internal static void OpenClosedStandardDescriptors()
    {
        for (var fd = 0; fd <= 2; fd++)
        {
            if (FcntlGetFd(fd, F_GETFD) != -1 || Marshal.GetLastPInvokeError() != EBADF) continue;
            // The lowest free number: fd itself, as the ones below it are open.
            var opened = Open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY, 0);
            if (opened != fd && opened >= 0) Close(opened);
        }
    }

    /// <summary>Flushes C stdio (readline writes through stdout's FILE buffer) before we write to fd 1 ourselves.</summary>
    internal static void FlushStdio() => FFlush(0);

    /// <summary>Waits for any of the descriptors; retries on EINTR. Returns false on timeout.</summary>
    internal static bool WaitForAny(Span<PollFd> fds, int timeoutMs)
    {
        fixed (PollFd* p = fds)
        {
            while (true)
            {
                var n = Poll(p, (nuint)fds.Length, timeoutMs);
                if (n >= 0) return n > 0;
                var errno = Marshal.GetLastPInvokeError();
                if (errno != EINTR) throw Failed("poll", errno);
            }
        }
    }

    /// <summary>Reads what is available; 0 at end of file, -1 when nothing is available right now.</summary>
    internal static int ReadAvailable(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = Read(fd, p, (nuint)buffer.Length);
                if (n >= 0) return (int)n;
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EAGAIN) return -1;
                if (errno != EINTR) throw Failed("read", errno);
            }
        }
    }

    /// <summary>
    /// Writes all of <paramref name="data"/>, in as many pieces as the descriptor takes: retries on EINTR, and waits
    /// when it is non-blocking and full (EAGAIN). Returns 0, or the errno that stopped it; each caller words it.
    /// </summary>
    internal static int WriteAll(int fd, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            nint n;
            fixed (byte* b = data) n = Write(fd, b, (nuint)data.Length);
            if (n >= 0)
            {
                data = data[(int)n..];
                continue;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == EAGAIN)
            {
                var p = new PollFd { Fd = fd, Events = POLLOUT };
                Poll(&p, 1, -1);
            }
            else if (errno != EINTR) return errno;
        }
        return 0;
    }

    /// <summary>A failed call, worded by libc.</summary>
    internal static IOException Failed(string call, int errno) => new($"{call}: {Marshal.GetPInvokeErrorMessage(errno)}");
}
