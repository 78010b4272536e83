using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace QomFs.Qmp;

/// <summary>
/// An eventfd: one thread signals it, another wakes from poll(2) on it (<see cref="RawSocket.WaitReadableOrWoken"/>).
/// A signal after Dispose is ignored.
/// </summary>
sealed partial class WakeSignal : SafeHandleMinusOneIsInvalid
{
    const int EFD_NONBLOCK = 0x800, EFD_CLOEXEC = 0x80000;

    public WakeSignal() : base(ownsHandle: true)
    {
        SetHandle(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
        if (IsInvalid) throw RawSocket.Failed(Marshal.GetLastPInvokeError());
    }

    public unsafe void Signal()
    {
        var added = false;
        try
        {
            DangerousAddRef(ref added);
            ulong one = 1;
            write((int)handle, &one, sizeof(ulong));
        }
        catch (ObjectDisposedException) { /* the waiter is gone */ }
        finally
        {
            if (added) DangerousRelease();
        }
    }

    /// <summary>Consumes the signals so far (called by the waiter, which holds the handle).</summary>
    public unsafe void Drain()
    {
        ulong count;
        read((int)handle, &count, sizeof(ulong));
    }

    protected override bool ReleaseHandle() => close((int)handle) == 0;

    [LibraryImport("libc", SetLastError = true)] private static partial int eventfd(uint initial, int flags);
    [LibraryImport("libc")] private static unsafe partial nint write(int fd, void* buffer, nint count);
    [LibraryImport("libc")] private static unsafe partial nint read(int fd, void* buffer, nint count);
    [LibraryImport("libc")] private static partial int close(int fd);
}
