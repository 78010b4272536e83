using System.Runtime.InteropServices;

namespace QomFs.Qmp.Libvirt;

/// <summary>
/// The running domains of one libvirt connection, kept current by libvirt's lifecycle events (no polling): for a
/// mount of a whole host. It only lists and watches; each domain's QMP goes through a <see cref="LibvirtTransport"/>
/// of its own.
/// </summary>
public sealed class LibvirtDomains : IDisposable
{
    readonly nint _connection;
    readonly int _callback;

    /// <summary>A domain started (its name); raised on libvirt's event thread.</summary>
    public event Action<string>? Started;

    /// <summary>A domain stopped, crashed or went away (its name); raised on libvirt's event thread.</summary>
    public event Action<string>? Stopped;

    /// <summary>The connection to libvirtd closed (it restarted or died): no more events come; open a new one.</summary>
    public event Action<string>? Lost;

    /// <summary>The running domains when watching began.</summary>
    public IReadOnlyList<string> Running { get; }

    unsafe LibvirtDomains(nint connection)
    {
        _connection = connection;
        LibvirtNative.ConnectRegisterCloseCallback(connection, &OnClosed, GCHandle.ToIntPtr(GCHandle.Alloc(this)), &FreeHandle);
        // Registered before listing, so that a domain starting in between is not missed (it may be reported twice).
        _callback = LibvirtNative.ConnectDomainEventRegisterAny(connection, 0, LibvirtNative.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
            &OnLifecycle, GCHandle.ToIntPtr(GCHandle.Alloc(this)), &FreeHandle);
        nint* domains = null;
        var n = LibvirtNative.ConnectListAllDomains(connection, &domains, LibvirtNative.VIR_CONNECT_LIST_DOMAINS_ACTIVE);
        if (n < 0)
        {
            var why = LibvirtNative.LastError();
            Dispose();
            throw new QmpConnectionException($"cannot list libvirt's domains: {why}");
        }
        var names = new List<string>(n);
        for (var i = 0; i < n; i++)
        {
            names.Add(Marshal.PtrToStringUTF8((nint)LibvirtNative.DomainGetName(domains[i]))!);
            LibvirtNative.DomainFree(domains[i]);
        }
        LibvirtNative.Free(domains);
        Running = names;
    }

    /// <param name="uri">libvirt's URI; empty for its default.</param>
    /// <exception cref="QmpConnectionException">libvirt is missing or unreachable.</exception>
    public static LibvirtDomains Open(string uri)
    {
        LibvirtEventLoop.EnsureRunning();
        var connection = LibvirtNative.ConnectOpen(uri.Length == 0 ? null : uri);
        if (connection == 0)
            throw new QmpConnectionException($"cannot connect to libvirt{(uri.Length == 0 ? "" : " at " + uri)}: {LibvirtNative.OpenError()}");
        return new LibvirtDomains(connection);
    }

    public unsafe void Dispose()
    {
        if (_callback >= 0) LibvirtNative.ConnectDomainEventDeregisterAny(_connection, _callback);
        LibvirtNative.ConnectUnregisterCloseCallback(_connection, &OnClosed);
        LibvirtNative.ConnectClose(_connection);
    }

    [UnmanagedCallersOnly]
    static void OnClosed(nint connection, int reason, nint opaque)
    {
        if (GCHandle.FromIntPtr(opaque).Target is not LibvirtDomains d) return;
        try { d.Lost?.Invoke(reason == LibvirtNative.VIR_CONNECT_CLOSE_REASON_EOF ? "libvirtd closed the connection" : "the connection to libvirtd failed"); }
        catch (Exception) { /* a handler's failure must not unwind into libvirt */ }
    }

    [UnmanagedCallersOnly]
    static unsafe int OnLifecycle(nint connection, nint domain, int lifecycleEvent, int detail, nint opaque)
    {
        if (GCHandle.FromIntPtr(opaque).Target is not LibvirtDomains d) return 0;
        var name = Marshal.PtrToStringUTF8((nint)LibvirtNative.DomainGetName(domain))!;
        try
        {
            switch (lifecycleEvent)
            {
                case LibvirtNative.VIR_DOMAIN_EVENT_STARTED: d.Started?.Invoke(name); break;
                case LibvirtNative.VIR_DOMAIN_EVENT_STOPPED or LibvirtNative.VIR_DOMAIN_EVENT_CRASHED
                    or LibvirtNative.VIR_DOMAIN_EVENT_UNDEFINED: d.Stopped?.Invoke(name); break;
            }
        }
        catch (Exception) { /* a handler's failure must not unwind into libvirt */ }
        return 0;
    }

    [UnmanagedCallersOnly]
    static void FreeHandle(nint opaque) => GCHandle.FromIntPtr(opaque).Free();
}
