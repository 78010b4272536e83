using System.Diagnostics;
using System.Runtime.InteropServices;

namespace QomFs.Bench;

/// <summary>
/// Where this machine's scheduler runs a thread that a busy thread wakes over a unix socket: on the waker's own CPU
/// (it preempts the waker, or waits for it) or on an idle one. That is what a QMP reply does: QEMU's monitor thread
/// writes it and goes on reading the next request, and the daemon's reader wakes. A scheduler that spreads puts the
/// reader on the idle CPU; one that packs puts it on QEMU's, and every reply then costs QEMU the daemon's work on it.
/// A context row for the cold dumps: run while nothing else of the bench runs.
/// </summary>
static partial class WakeupPlacement
{
    /// <summary>The share (0 to 1) of <paramref name="wakeups"/> wake-ups that ran on the waker's CPU.</summary>
    /// <param name="busy">how long the waker keeps its CPU after each write (QEMU reads a request for about this long).</param>
    public static unsafe double OnWakersCpu(int wakeups, TimeSpan busy)
    {
        var fds = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) throw new IOException($"socketpair: errno {Marshal.GetLastPInvokeError()}");
        int waker = fds[0], sleeper = fds[1];
        var wakerCpu = -1;
        var same = 0;
        var thread = new Thread(() =>
        {
            byte b;
            while (read(sleeper, &b, 1) == 1)
            {
                if (sched_getcpu() == Volatile.Read(ref wakerCpu)) same++;
                write(sleeper, &b, 1);
            }
        }) { IsBackground = true, Name = "wake-up probe" };
        thread.Start();
        try
        {
            var spin = (long)(busy.TotalSeconds * Stopwatch.Frequency);
            byte x = 1;
            for (var i = 0; i < wakeups; i++)
            {
                Volatile.Write(ref wakerCpu, sched_getcpu());
                if (write(waker, &x, 1) != 1) throw new IOException("wake-up probe: write failed");
                var until = Stopwatch.GetTimestamp() + spin;
                while (Stopwatch.GetTimestamp() < until) { }
                if (read(waker, &x, 1) != 1) throw new IOException("wake-up probe: read failed");
                // Long enough for the sleeper to be back in read(2): each write is a wake-up, not a hand-over.
                Thread.Sleep(1);
            }
        }
        finally
        {
            close(waker);
            thread.Join(TimeSpan.FromSeconds(5));
            close(sleeper);
        }
        return (double)same / wakeups;
    }

    const int AF_UNIX = 1, SOCK_STREAM = 1;
    [LibraryImport("libc", SetLastError = true)] private static unsafe partial int socketpair(int domain, int type, int protocol, int* fds);
    [LibraryImport("libc", SetLastError = true)] private static unsafe partial nint read(int fd, byte* buffer, nint count);
    [LibraryImport("libc", SetLastError = true)] private static unsafe partial nint write(int fd, byte* buffer, nint count);
    [LibraryImport("libc")] private static partial int close(int fd);
    [LibraryImport("libc")] private static partial int sched_getcpu();
}
