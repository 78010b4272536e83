using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace QomFs.Qmp.Proxy;

/// <summary>
/// A QMP server on a unix socket that shares a <see cref="QmpClient"/>'s connection with up to
/// <see cref="QmpProxyOptions.MaxClients"/> clients at once: each is a full QMP client of its own
/// (<see cref="ProxySession"/>), served on the connection there is when it comes, or on one opened for it. It knows
/// nothing of what the commands mean; <see cref="QmpProxyOptions.CommandCompleted"/> tells whoever does. The socket is made with mode 0600: private to the user who runs the proxy.
/// What cannot be shared is refused with a QMP error, never half done:
/// <list type="bullet">
/// <item>file descriptors (<c>getfd</c>, <c>add-fd</c>): they come with a client's bytes (SCM_RIGHTS) and would
/// have to be passed on with exactly the right command on the shared connection, where the library sends bytes
/// only; QEMU would keep them in a table shared by every client, under names that could clash.</item>
/// <item>out-of-band execution: the greeting offers no <c>oob</c> capability, and asking for it gets QEMU's answer
/// for a capability it does not offer. An out-of-band command overtakes the others, and the shared connection
/// matches replies to commands by their order.</item>
/// </list>
/// A client lives as long as the connection it is served on. A proxy on one connection ends with it: once QEMU is gone,
/// the socket is closed too. A proxy that opens connections lives until it is disposed.
/// </summary>
public sealed class QmpProxy : IDisposable
{
    readonly Socket _listener;
    readonly Func<CancellationToken, Task<QmpClient>> _connect;
    readonly QmpProxyOptions _options;
    readonly Lock _gate = new();
    readonly HashSet<ProxySession> _sessions = [];
    readonly CancellationTokenSource _stop = new();
    long _refusedClients, _droppedEvents;
    int _refusing; // refused clients still being told why
    bool _disposed;

    public string SocketPath { get; }

    /// <summary>Clients connected now.</summary>
    public int Clients { get { lock (_gate) return _sessions.Count; } }

    /// <summary>Clients turned away because <see cref="QmpProxyOptions.MaxClients"/> were connected.</summary>
    public long RefusedClients => Interlocked.Read(ref _refusedClients);

    /// <summary>Events lost by clients that did not read them, those gone included.</summary>
    public long DroppedEvents
    {
        get { lock (_gate) return _droppedEvents + _sessions.Sum(s => s.DroppedEvents); }
    }

    QmpProxy(Socket listener, string path, Func<CancellationToken, Task<QmpClient>> connect, QmpProxyOptions options)
    {
        _listener = listener;
        SocketPath = path;
        _connect = connect;
        _options = options;
    }

    /// <summary>Shares <paramref name="qmp"/> at <paramref name="path"/> until it ends; a socket file left there by a proxy that is gone is replaced.</summary>
    /// <exception cref="IOException">the path is taken: something else, or a socket someone listens on.</exception>
    public static QmpProxy Start(string path, QmpClient qmp, QmpProxyOptions? options = null)
    {
        var proxy = Start(path, _ => Task.FromResult(qmp), options);
        qmp.Disconnected.ContinueWith(_ => proxy.Dispose(), TaskScheduler.Default);
        return proxy;
    }

    /// <summary>
    /// Serves each client at <paramref name="path"/> on the connection <paramref name="connect"/> gives when it comes,
    /// which may open one: so that a QEMU is connected to only while someone uses it. A client is closed when no
    /// connection can be made (<paramref name="connect"/> throws a <see cref="QmpException"/>) and when its
    /// connection ends.
    /// </summary>
    /// <exception cref="IOException">the path is taken: something else, or a socket someone listens on.</exception>
    public static QmpProxy Start(string path, Func<CancellationToken, Task<QmpClient>> connect, QmpProxyOptions? options = null)
    {
        RemoveDeadSocket(path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            // Before listen(2): nobody can connect to it until it is private.
            if (LibC.Chmod(path, 0b110_000_000) != 0)
                throw new IOException($"cannot make {path} private: errno {Marshal.GetLastPInvokeError()}");
            listener.Listen(16);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            listener.Dispose();
            if (e is IOException) { File.Delete(path); throw; }
            throw new IOException($"cannot serve QMP at {path}: {e.Message}", e);
        }
        var proxy = new QmpProxy(listener, path, connect, options ?? new QmpProxyOptions());
        _ = proxy.AcceptAsync();
        return proxy;
    }

    static void RemoveDeadSocket(string path)
    {
        if (!LibC.IsSocket(path, followLinks: false))
        {
            if (File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null)
                throw new IOException($"cannot serve QMP at {path}: it exists and is not a socket");
            return;
        }
        if (!RemoveIfDead(path)) throw new IOException($"cannot serve QMP at {path}: something listens there already");
    }

    /// <summary>Removes the socket at <paramref name="path"/> if nobody listens on it (a proxy that is gone left it): false if someone does, or it is no socket.</summary>
    public static bool RemoveIfDead(string path)
    {
        if (!LibC.IsSocket(path, followLinks: false)) return false;
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try { probe.Connect(new UnixDomainSocketEndPoint(path)); }
        catch (SocketException)
        {
            File.Delete(path);
            return true;
        }
        return false;
    }

    async Task AcceptAsync()
    {
        while (true)
        {
            Socket client;
            try { client = await _listener.AcceptAsync(_stop.Token); }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException) { return; }
            ProxySession? session = null;
            bool tellWhy;
            lock (_gate)
            {
                if (!_disposed && _sessions.Count < _options.MaxClients) _sessions.Add(session = new ProxySession(client, _options));
                // Told why in QMP (ProxyRefusal), as many at once as there are clients; beyond that, a flood of
                // connections is closed at once, before its greeting.
                tellWhy = session is null && !_disposed && _refusing < _options.MaxClients;
                if (tellWhy) _refusing++;
            }
            if (session is not null) _ = ServeAsync(session);
            else
            {
                Interlocked.Increment(ref _refusedClients);
                if (tellWhy) _ = RefuseAsync(client);
                else client.Dispose();
            }
        }
    }

    async Task RefuseAsync(Socket client)
    {
        // Every place is taken, so there is a connection, and this is its greeting.
        if (await ConnectAsync() is { } qmp) await ProxyRefusal.RefuseAsync(client, ProxyReplies.Greeting(qmp.Greeting), _options.MaxClients);
        else client.Dispose();
        lock (_gate) _refusing--;
    }

    async Task<QmpClient?> ConnectAsync()
    {
        try { return await _connect(_stop.Token); }
        catch (Exception e) when (e is QmpException or OperationCanceledException) { return null; }
    }

    async Task ServeAsync(ProxySession session)
    {
        if (await ConnectAsync() is { } qmp)
        {
            var serving = session.RunAsync(qmp);
            if (await Task.WhenAny(serving, qmp.Disconnected) != serving) session.Dispose();
            await serving;
        }
        else session.Dispose();
        lock (_gate)
        {
            _sessions.Remove(session);
            _droppedEvents += session.DroppedEvents;
        }
    }

    /// <summary>Closes every client and the socket, and removes the socket's file.</summary>
    public void Dispose()
    {
        ProxySession[] sessions;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            sessions = [.. _sessions];
        }
        _stop.Cancel();
        _listener.Dispose();
        try { File.Delete(SocketPath); } catch (IOException) { }
        foreach (var s in sessions) s.Dispose();
    }
}
