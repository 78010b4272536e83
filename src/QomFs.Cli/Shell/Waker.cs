using System.Runtime.InteropServices;

namespace QomFs.Cli.Shell;

/// <summary>A non-blocking eventfd: any thread may <see cref="Wake"/> the loop that polls it.</summary>
sealed unsafe class Waker : IDisposable
{
    // Wake and Dispose exclude each other: a wake-up after the close would write its 8 bytes into whatever file took
    // the descriptor's number since (standard error's copy, when the shell reports why it ended).
    readonly Lock _gate = new();
    bool _closed;

    public int Fd { get; } = LibC.EventFd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);

    public Waker()
    {
        if (Fd < 0) throw LibC.Failed("eventfd", Marshal.GetLastPInvokeError());
    }

    public void Wake()
    {
        ulong one = 1;
        lock (_gate)
        {
            if (!_closed) LibC.Write(Fd, (byte*)&one, 8); // cannot fail short of overflowing a 64-bit counter
        }
    }

    public void Drain()
    {
        ulong value;
        LibC.Read(Fd, (byte*)&value, 8);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_closed) return;
            _closed = true;
            LibC.Close(Fd);
        }
    }
}
