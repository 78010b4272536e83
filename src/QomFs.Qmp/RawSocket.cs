using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace QomFs.Qmp;

/// <summary>
/// recv, send and poll on a socket's descriptor, straight to libc: a deadline without a timer, a wait without the
/// socket engine's thread, and the same behaviour whether the descriptor is blocking or not.
/// </summary>
static class RawSocket
{
    /// <summary>One recv(2) into <paramref name="buffer"/>, waiting as long as it takes: bytes read, 0 at end of stream.</summary>
    public static unsafe int Receive(SafeHandle socket, Span<byte> buffer)
    {
        using var fd = new Descriptor(socket);
        while (true)
        {
            nint n;
            fixed (byte* b = buffer) n = LibC.Recv(fd.Value, b, buffer.Length, 0);
            if (n >= 0) return (int)n;
            var errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EINTR) continue;
            if (errno != LibC.EAGAIN) throw Failed(errno);
            Poll(fd.Value, LibC.POLLIN, -1);
        }
    }

    /// <summary>Sends all of <paramref name="data"/> by <paramref name="deadline"/> (see <see cref="Deadline"/>).</summary>
    /// <exception cref="TimeoutException">the peer did not take it in time.</exception>
    public static unsafe void Send(SafeHandle socket, ReadOnlySpan<byte> data, long deadline)
    {
        using var fd = new Descriptor(socket);
        while (data.Length > 0)
        {
            nint n;
            fixed (byte* b = data) n = LibC.Send(fd.Value, b, data.Length, LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT);
            if (n >= 0) { data = data[(int)n..]; continue; }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EINTR) continue;
            if (errno != LibC.EAGAIN) throw Failed(errno);
            if (!Poll(fd.Value, LibC.POLLOUT, Remaining(deadline))) throw new TimeoutException();
        }
    }

    /// <summary>True when a recv would not block (data, end of stream or an error to report) within the time.</summary>
    public static bool WaitReadable(SafeHandle socket, int milliseconds)
    {
        using var fd = new Descriptor(socket);
        return Poll(fd.Value, LibC.POLLIN, milliseconds);
    }

    /// <summary>shutdown(2) both ways: a read blocked on the socket in another thread returns at once.</summary>
    public static void Shutdown(SafeHandle socket)
    {
        using var fd = new Descriptor(socket);
        LibC.Shutdown(fd.Value, LibC.SHUT_RDWR);
    }

    /// <summary>A point in <see cref="Environment.TickCount64"/> time, or long.MaxValue for no deadline.</summary>
    public static long Deadline(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;

    /// <summary>Milliseconds left until <paramref name="deadline"/> as poll(2) takes them: -1 for none, 0 if past.</summary>
    public static int Remaining(long deadline) =>
        deadline == long.MaxValue ? -1 : (int)Math.Clamp(deadline - Environment.TickCount64, 0, int.MaxValue);

    /// <summary>The time left until <paramref name="deadline"/>, as a timeout: infinite for none, zero if past.</summary>
    public static TimeSpan TimeLeft(long deadline) =>
        Remaining(deadline) is var ms && ms < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(ms);

    // An errno, worded by libc: SocketException would take it for a Windows socket error code.
    public static IOException Failed(int errno) => new(Marshal.GetPInvokeErrorMessage(errno), errno);

    static unsafe bool Poll(int fd, short events, int milliseconds)
    {
        var p = new LibC.PollFd { Fd = fd, Events = events };
        var n = LibC.Poll(&p, 1, milliseconds);
        if (n < 0 && Marshal.GetLastPInvokeError() is var e && e != LibC.EINTR) throw Failed(e);
        return n > 0;
    }

    // The descriptor, held so that it stays ours while we wait on it even if the socket is disposed meanwhile.
    readonly ref struct Descriptor
    {
        readonly SafeHandle _handle;
        readonly bool _added;

        public Descriptor(SafeHandle socket)
        {
            _handle = socket;
            var added = false;
            _handle.DangerousAddRef(ref added);
            _added = added;
            Value = (int)_handle.DangerousGetHandle();
        }

        public int Value { get; }

        public void Dispose()
        {
            if (_added) _handle.DangerousRelease();
        }
    }
}
