using System.Runtime.InteropServices;
using System.Text.Json;
using QomFs.Threading;

namespace QomFs.Qmp.Libvirt;

/// <summary>
/// QMP to a libvirt domain through libvirt's C library: <c>virDomainQemuMonitorCommand</c> for each request, and
/// QEMU's events from <c>virConnectDomainQemuMonitorEventRegister</c>. libvirt holds the monitor and has negotiated
/// already (<see cref="Negotiated"/>). A monitor command blocks until its reply, so <see cref="Send"/> only queues:
/// one worker thread runs the requests in order, one at a time as libvirt would anyway, and queues each reply beside
/// the events for <see cref="Receive"/>. The domain stopping (a lifecycle event) or the connection to libvirtd
/// closing (its close callback) ends the session at once: <see cref="Receive"/> throws, so every pending command fails.
/// </summary>
public sealed class LibvirtTransport : IQmpTransport
{
    readonly QmpAddress _address;
    readonly nint _connection;
    readonly nint _domain;
    readonly WaitingQueue<byte[]> _requests = new();
    // Replies and events in the order they came; a null message carries the reason the session ended.
    readonly WaitingQueue<(byte[]? Message, string? Failure)> _inbox = new();
    readonly int _lifecycleCallback;
    readonly int _eventCallback;
    volatile string? _failure;
    int _disposed;

    unsafe LibvirtTransport(QmpAddress address, nint connection, nint domain, bool watch)
    {
        _address = address;
        _connection = connection;
        _domain = domain;
        LibvirtNative.ConnectRegisterCloseCallback(connection, &OnClosed, GCHandle.ToIntPtr(GCHandle.Alloc(this)), &FreeHandle);
        _lifecycleCallback = _eventCallback = -1;
        if (watch)
        {
            _lifecycleCallback = LibvirtNative.ConnectDomainEventRegisterAny(connection, domain,
                LibvirtNative.VIR_DOMAIN_EVENT_ID_LIFECYCLE, &OnLifecycle, GCHandle.ToIntPtr(GCHandle.Alloc(this)), &FreeHandle);
            _eventCallback = LibvirtNative.ConnectDomainQemuMonitorEventRegister(connection, domain, null, &OnQmpEvent,
                GCHandle.ToIntPtr(GCHandle.Alloc(this)), &FreeHandle, 0);
        }
        new Thread(RunRequests) { IsBackground = true, Name = $"libvirt {address.Domain}" }.Start();
    }

    /// <summary>Opens a connection to the address's libvirt and finds its domain.</summary>
    /// <param name="watch">
    /// follow the session: QEMU's events, and the domain stopping (checked to be running first). Each costs libvirtd a
    /// round trip, which a one-shot command (no reader thread: it reads its one reply itself) spares; its command then
    /// fails with libvirt's own reason if the domain is not running.
    /// </param>
    /// <exception cref="QmpConnectionException">libvirt is missing or unreachable, no such domain, not running, no permission.</exception>
    public static async Task<LibvirtTransport> ConnectAsync(QmpAddress address, TimeSpan timeout, bool watch, CancellationToken cancel)
    {
        // virConnectOpen blocks (for a remote URI, as long as ssh takes); it runs beside the caller's deadline.
        var open = Task.Run(() => Open(address, watch), CancellationToken.None);
        try { return await open.WaitAsync(timeout, cancel); }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Given up on, timed out or cancelled: the connection it may still make is closed when it comes.
            _ = open.ContinueWith(t => t.Result.Dispose(), TaskContinuationOptions.OnlyOnRanToCompletion);
            if (e is OperationCanceledException) throw;
            throw new QmpTimeoutException($"cannot connect to {address}: libvirt did not answer within {timeout.TotalSeconds:0.###} s");
        }
    }

    static LibvirtTransport Open(QmpAddress address, bool watch)
    {
        LibvirtEventLoop.EnsureRunning();
        var connection = LibvirtNative.ConnectOpen(address.LibvirtUri.Length == 0 ? null : address.LibvirtUri);
        if (connection == 0) throw new QmpConnectionException($"cannot connect to {address}: {LibvirtNative.OpenError()}");
        var domain = LibvirtNative.DomainLookupByName(connection, address.Domain);
        if (domain == 0)
        {
            var why = LibvirtNative.LastError();
            LibvirtNative.ConnectClose(connection);
            throw new QmpConnectionException($"cannot connect to {address}: {why}");
        }
        if (watch && LibvirtNative.DomainIsActive(domain) != 1)
        {
            LibvirtNative.DomainFree(domain);
            LibvirtNative.ConnectClose(connection);
            throw new QmpConnectionException($"cannot connect to {address}: domain '{address.Domain}' is not running");
        }
        return new LibvirtTransport(address, connection, domain, watch);
    }

    public bool Negotiated => true;

    /// <summary>A request as libvirt takes it: a C string.</summary>
    public byte[] Encode(string command, Action<Utf8JsonWriter>? writeArguments) =>
        QmpRequest.Encode(command, writeArguments, id: null, suffix: [0]);

    public void Send(byte[] request, TimeSpan timeout)
    {
        if (_failure is { } failure) throw new QmpConnectionException(failure);
        if (!_requests.TryAdd(request)) throw new QmpConnectionException($"connection to {_address} closed");
    }

    public ReadOnlyMemory<byte>? Receive(TimeSpan timeout, CancellationToken cancel)
    {
        if (!_inbox.TryTake(out var item, timeout, cancel))
        {
            if (_inbox.IsCompleted) return null;
            throw new TimeoutException();
        }
        if (item.Message is null) throw new QmpConnectionException(item.Failure!);
        return item.Message;
    }

    unsafe void RunRequests()
    {
        try
        {
            foreach (var request in _requests.TakeEach())
            {
                if (_failure is not null) break;
                byte* reply = null;
                int rc;
                fixed (byte* command = request) rc = LibvirtNative.DomainQemuMonitorCommand(_domain, command, &reply, 0);
                if (rc < 0)
                {
                    Fail($"connection to {_address} lost: {LibvirtNative.LastError()}");
                    break;
                }
                var bytes = new ReadOnlySpan<byte>(reply, (int)strlen(reply)).ToArray();
                LibvirtNative.Free(reply);
                TryQueue(bytes, null);
            }
        }
        finally { Release(); }
    }

    /// <summary>Ends the session with a reason, once: the reader's next <see cref="Receive"/> throws it.</summary>
    void Fail(string reason)
    {
        if (Interlocked.CompareExchange(ref _failure, reason, null) is not null) return;
        TryQueue(null, reason);
        _requests.Complete();
    }

    // Once disposed nobody reads any more, and nothing is queued.
    void TryQueue(byte[]? message, string? failure) => _inbox.TryAdd((message, failure));

    // After the worker's last monitor command: then nothing uses the domain or the connection any more. Each
    // callback's handle is freed by libvirt's free callback, once libvirt will no longer call it.
    unsafe void Release()
    {
        if (_eventCallback >= 0) LibvirtNative.ConnectDomainQemuMonitorEventDeregister(_connection, _eventCallback);
        if (_lifecycleCallback >= 0) LibvirtNative.ConnectDomainEventDeregisterAny(_connection, _lifecycleCallback);
        LibvirtNative.ConnectUnregisterCloseCallback(_connection, &OnClosed);
        LibvirtNative.DomainFree(_domain);
        LibvirtNative.ConnectClose(_connection);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Interlocked.CompareExchange(ref _failure, $"connection to {_address} closed", null);
        _requests.Complete();
        _inbox.Complete();
    }

    static LibvirtTransport? From(nint opaque) => GCHandle.FromIntPtr(opaque).Target as LibvirtTransport;

    [UnmanagedCallersOnly]
    static void OnClosed(nint connection, int reason, nint opaque)
    {
        if (From(opaque) is not { } t) return;
        var why = reason switch
        {
            LibvirtNative.VIR_CONNECT_CLOSE_REASON_EOF => "libvirtd closed the connection",
            LibvirtNative.VIR_CONNECT_CLOSE_REASON_KEEPALIVE => "libvirtd stopped answering keepalives",
            _ => "the connection to libvirtd failed",
        };
        t.Fail($"connection to {t._address} lost: {why}");
    }

    [UnmanagedCallersOnly]
    static int OnLifecycle(nint connection, nint domain, int lifecycleEvent, int detail, nint opaque)
    {
        var gone = lifecycleEvent switch
        {
            LibvirtNative.VIR_DOMAIN_EVENT_STOPPED or LibvirtNative.VIR_DOMAIN_EVENT_UNDEFINED => "stopped",
            LibvirtNative.VIR_DOMAIN_EVENT_CRASHED => "crashed",
            _ => null,
        };
        if (gone is not null && From(opaque) is { } t) t.Fail($"connection to {t._address} lost: the domain {gone}");
        return 0;
    }

    /// <summary>A QMP event as QEMU sent it, rebuilt from libvirt's parts: its name, its data's JSON and its timestamp.</summary>
    [UnmanagedCallersOnly]
    static unsafe void OnQmpEvent(nint connection, nint domain, byte* name, long seconds, uint micros, byte* details, nint opaque)
    {
        if (From(opaque) is not { } t || name is null) return;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        // Nothing may be thrown back into libvirt's C: an event that cannot be written ends the connection, as a
        // malformed event does on a socket. The data goes unchecked: the client parses it as QEMU's own.
        try
        {
            using var w = new Utf8JsonWriter(buffer, JsonQuote.Relaxed);
            w.WriteStartObject();
            w.WriteString("event"u8, new ReadOnlySpan<byte>(name, (int)strlen(name)));
            if (details is not null)
            {
                w.WritePropertyName("data"u8);
                w.WriteRawValue(new ReadOnlySpan<byte>(details, (int)strlen(details)), skipInputValidation: true);
            }
            w.WriteStartObject("timestamp"u8);
            w.WriteNumber("seconds"u8, seconds);
            w.WriteNumber("microseconds"u8, micros);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            t.Fail($"libvirt sent an event that cannot be written as JSON: {e.Message}");
            return;
        }
        t.TryQueue(buffer.WrittenSpan.ToArray(), null);
    }

    [UnmanagedCallersOnly]
    static void FreeHandle(nint opaque) => GCHandle.FromIntPtr(opaque).Free();

    static unsafe nuint strlen(byte* s)
    {
        nuint n = 0;
        while (s[n] != 0) n++;
        return n;
    }
}
