using System.Runtime.InteropServices;

namespace QomFs.Cli.Shell;

/// <summary>The few libc calls the shell's loop needs: poll, an eventfd to wake it, raw reads and writes.</summary>
static unsafe partial class Native
{
    public const short POLLIN = 0x1, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20;
    const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800, EINTR = 4, EAGAIN = 11;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", SetLastError = true)] private static partial int poll(PollFd* fds, nuint count, int timeout);
    [LibraryImport("libc", SetLastError = true)] private static partial int eventfd(uint initval, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial nint read(int fd, byte* buffer, nuint count);
    [LibraryImport("libc", SetLastError = true)] private static partial nint write(int fd, byte* buffer, nuint count);
    [LibraryImport("libc")] private static partial int isatty(int fd);
    [LibraryImport("libc")] private static partial int fflush(nint stream);

    public static bool IsTerminal(int fd) => isatty(fd) == 1;

    /// <summary>Flushes C stdio (readline writes through stdout's FILE buffer) before we write to fd 1 ourselves.</summary>
    public static void FlushStdio() => fflush(0);

    /// <summary>Waits for any of the descriptors; retries on EINTR. Returns false on timeout.</summary>
    public static bool Poll(Span<PollFd> fds, int timeoutMs)
    {
        fixed (PollFd* p = fds)
        {
            while (true)
            {
                var n = poll(p, (nuint)fds.Length, timeoutMs);
                if (n >= 0) return n > 0;
                var errno = Marshal.GetLastPInvokeError();
                if (errno != EINTR) throw new IOException($"poll: {Marshal.GetPInvokeErrorMessage(errno)}");
            }
        }
    }

    /// <summary>Reads what is available; 0 at end of file, -1 when nothing is available right now.</summary>
    public static int Read(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = read(fd, p, (nuint)buffer.Length);
                if (n >= 0) return (int)n;
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EAGAIN) return -1;
                if (errno != EINTR) throw new IOException($"read: {Marshal.GetPInvokeErrorMessage(errno)}");
            }
        }
    }

    /// <summary>Writes all of it (a terminal may take it in pieces).</summary>
    public static void WriteAll(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            var done = 0;
            while (done < data.Length)
            {
                var n = write(fd, p + done, (nuint)(data.Length - done));
                if (n >= 0) { done += (int)n; continue; }
                var errno = Marshal.GetLastPInvokeError();
                if (errno != EINTR) throw new IOException($"write: {Marshal.GetPInvokeErrorMessage(errno)}");
            }
        }
    }

    /// <summary>A non-blocking eventfd: any thread may <see cref="Wake"/> the loop that polls it.</summary>
    public sealed class Waker : IDisposable
    {
        public int Fd { get; } = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

        public Waker()
        {
            if (Fd < 0) throw new IOException($"eventfd: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }

        public void Wake()
        {
            ulong one = 1;
            write(Fd, (byte*)&one, 8); // cannot fail short of overflowing a 64-bit counter
        }

        public void Drain()
        {
            ulong value;
            read(Fd, (byte*)&value, 8);
        }

        public void Dispose() => close(Fd);
    }

    [LibraryImport("libc")] private static partial int close(int fd);
}
