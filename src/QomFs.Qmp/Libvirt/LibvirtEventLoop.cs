namespace QomFs.Qmp.Libvirt;

/// <summary>
/// libvirt's default event loop, run on a thread of its own for the whole process: it delivers the QMP events,
/// lifecycle events and close callbacks of every libvirt connection, and sends their keepalives. libvirt wants it
/// registered before the first connection is opened.
/// </summary>
internal static unsafe class LibvirtEventLoop
{
    static readonly Lock Gate = new();
    static bool _running;

    /// <exception cref="QmpConnectionException">libvirt is not installed, or its loop would not start.</exception>
    public static void EnsureRunning()
    {
        lock (Gate)
        {
            if (_running) return;
            try
            {
                LibvirtNative.Initialize();
                // Without a handler of its own, libvirt prints every error to stderr; ours are reported once, by the caller.
                LibvirtNative.SetErrorFunc(0, &IgnoreError);
                if (LibvirtNative.EventRegisterDefaultImpl() < 0)
                    throw new QmpConnectionException($"cannot start libvirt's event loop: {LibvirtNative.LastError()}");
            }
            catch (DllNotFoundException)
            {
                throw new QmpConnectionException("libvirt is not installed (libvirt.so.0 and libvirt-qemu.so.0, Debian's libvirt0)");
            }
            new Thread(Run) { IsBackground = true, Name = "libvirt events" }.Start();
            _running = true;
        }
    }

    static void Run()
    {
        // Returns after each dispatch; -1 only when the loop itself broke, which leaves nothing to deliver events.
        while (LibvirtNative.EventRunDefaultImpl() == 0) { }
    }

    [System.Runtime.InteropServices.UnmanagedCallersOnly]
    static void IgnoreError(nint userData, nint error) { }
}
