using System.Runtime.InteropServices;

namespace QomFs.Qmp.Libvirt;

/// <summary>
/// The part of libvirt's C API the libvirt transport calls (libvirt.so.0 and libvirt-qemu.so.0 of libvirt0), bound
/// as declared in /usr/include/libvirt/*.h: tests/QomFs.Qmp.Tests/Libvirt/signatures.c restates each declaration
/// and compiles against the installed headers, so a mismatch fails a test. Every parameter is a pointer or an int:
/// no struct crosses, so nothing here depends on a layout. The libraries are loaded at the first call, so a machine
/// without libvirt only fails when a libvirt address is used.
/// </summary>
internal static unsafe partial class LibvirtNative
{
    const string Lib = "libvirt.so.0";
    const string QemuLib = "libvirt-qemu.so.0";

    // virDomainEventID, virDomainEventType, virConnectCloseReason
    internal const int VIR_DOMAIN_EVENT_ID_LIFECYCLE = 0;
    internal const int VIR_DOMAIN_EVENT_STARTED = 2, VIR_DOMAIN_EVENT_STOPPED = 5, VIR_DOMAIN_EVENT_CRASHED = 8;
    internal const int VIR_DOMAIN_EVENT_UNDEFINED = 1;
    internal const int VIR_CONNECT_CLOSE_REASON_EOF = 1, VIR_CONNECT_CLOSE_REASON_KEEPALIVE = 2;
    // virConnectListAllDomainsFlags
    internal const uint VIR_CONNECT_LIST_DOMAINS_ACTIVE = 1;

    [LibraryImport(Lib, EntryPoint = "virInitialize")]
    internal static partial int Initialize();

    [LibraryImport(Lib, EntryPoint = "virSetErrorFunc")]
    internal static partial void SetErrorFunc(nint userData, delegate* unmanaged<nint, nint, void> handler);

    [LibraryImport(Lib, EntryPoint = "virGetLastErrorMessage")]
    internal static partial byte* GetLastErrorMessage();

    [LibraryImport(Lib, EntryPoint = "virEventRegisterDefaultImpl")]
    internal static partial int EventRegisterDefaultImpl();

    [LibraryImport(Lib, EntryPoint = "virEventRunDefaultImpl")]
    internal static partial int EventRunDefaultImpl();

    /// <param name="name">the URI; null for libvirt's default.</param>
    [LibraryImport(Lib, EntryPoint = "virConnectOpen", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint ConnectOpen(string? name);

    [LibraryImport(Lib, EntryPoint = "virConnectClose")]
    internal static partial int ConnectClose(nint conn);

    [LibraryImport(Lib, EntryPoint = "virConnectRegisterCloseCallback")]
    internal static partial int ConnectRegisterCloseCallback(nint conn, delegate* unmanaged<nint, int, nint, void> cb,
        nint opaque, delegate* unmanaged<nint, void> freecb);

    [LibraryImport(Lib, EntryPoint = "virConnectUnregisterCloseCallback")]
    internal static partial int ConnectUnregisterCloseCallback(nint conn, delegate* unmanaged<nint, int, nint, void> cb);

    [LibraryImport(Lib, EntryPoint = "virConnectListAllDomains")]
    internal static partial int ConnectListAllDomains(nint conn, nint** domains, uint flags);

    [LibraryImport(Lib, EntryPoint = "virDomainLookupByName", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint DomainLookupByName(nint conn, string name);

    [LibraryImport(Lib, EntryPoint = "virDomainGetName")]
    internal static partial byte* DomainGetName(nint domain);

    [LibraryImport(Lib, EntryPoint = "virDomainIsActive")]
    internal static partial int DomainIsActive(nint domain);

    [LibraryImport(Lib, EntryPoint = "virDomainFree")]
    internal static partial int DomainFree(nint domain);

    /// <param name="cb">a virConnectDomainEventCallback for <see cref="VIR_DOMAIN_EVENT_ID_LIFECYCLE"/>.</param>
    [LibraryImport(Lib, EntryPoint = "virConnectDomainEventRegisterAny")]
    internal static partial int ConnectDomainEventRegisterAny(nint conn, nint dom, int eventId,
        delegate* unmanaged<nint, nint, int, int, nint, int> cb, nint opaque, delegate* unmanaged<nint, void> freecb);

    [LibraryImport(Lib, EntryPoint = "virConnectDomainEventDeregisterAny")]
    internal static partial int ConnectDomainEventDeregisterAny(nint conn, int callbackId);

    /// <param name="result">set to a malloc'd reply, freed with libc's free.</param>
    [LibraryImport(QemuLib, EntryPoint = "virDomainQemuMonitorCommand")]
    internal static partial int DomainQemuMonitorCommand(nint domain, byte* cmd, byte** result, uint flags);

    /// <param name="eventName">null for every event.</param>
    [LibraryImport(QemuLib, EntryPoint = "virConnectDomainQemuMonitorEventRegister")]
    internal static partial int ConnectDomainQemuMonitorEventRegister(nint conn, nint dom, byte* eventName,
        delegate* unmanaged<nint, nint, byte*, long, uint, byte*, nint, void> cb, nint opaque,
        delegate* unmanaged<nint, void> freecb, uint flags);

    [LibraryImport(QemuLib, EntryPoint = "virConnectDomainQemuMonitorEventDeregister")]
    internal static partial int ConnectDomainQemuMonitorEventDeregister(nint conn, int callbackId);

    [LibraryImport("libc", EntryPoint = "free")]
    internal static partial void Free(void* pointer);

    /// <summary>
    /// Why virConnectOpen failed. A user libvirtd does not let in is refused by polkit, or, with no system bus (as here,
    /// without systemd), by the failure to reach it; libvirt's words for that do not say "permission", so we do.
    /// </summary>
    internal static string OpenError()
    {
        var why = LastError();
        return why.Contains("system bus", StringComparison.Ordinal) || why.Contains("authentication", StringComparison.OrdinalIgnoreCase)
               || why.Contains("Permission denied", StringComparison.Ordinal)
            ? $"{why} (no permission: run as root, or as a user libvirtd lets in)"
            : why;
    }

    /// <summary>libvirt's message for the last error of this thread, e.g. "Domain not found: no domain with matching name 'x'".</summary>
    internal static string LastError()
    {
        var m = GetLastErrorMessage();
        return m is null ? "unknown libvirt error" : Marshal.PtrToStringUTF8((nint)m) ?? "unknown libvirt error";
    }
}
