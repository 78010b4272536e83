using QomFs.Fuse;
using QomFs.Qmp;
using QomFs.Qom;
using QomFs.Threading;

namespace QomFs.Host;

/// <summary>
/// One VM of a host mount: its address, its QMP proxy, and, while it is in use, its own connection, cache and
/// filesystem. Nothing is sent to the VM until its directory is first used or a client comes to its proxy;
/// <see cref="CloseIfIdle"/> closes the connection once it has been idle with no proxy client, and the next use opens
/// a new one. A connection that was lost is dropped the same way. What the VM tells the kernel (a deleted device,
/// listed values) goes to the host mount under /NAME.
/// </summary>
/// <param name="proxyPath">where the VM's QMP proxy listens; null for none.</param>
sealed class HostVm(string name, QmpAddress address, string? proxyPath, QomFsMountOptions options, DaemonLog log, Func<IFuseNotifier?> mount)
{
    readonly Lock _gate = new();
    QmpClient? _client;
    QomCache? _cache;
    IFuseNotifier? _notifier;
    ConnectionEntries? _entries;
    QmpEventSubscription? _deletions;
    QomFileSystem? _fs;
    MountProxy? _proxy;
    long _lastUse;
    bool _removed;

    public string Name { get; } = name;
    public QmpAddress Address { get; } = address;

    /// <summary>Serves the VM's QMP at its proxy path; a failure to listen there is logged, and the VM has none.</summary>
    public void Share()
    {
        if (proxyPath is null) return;
        try
        {
            var proxy = MountProxy.Start(proxyPath, Path.Combine(options.MountPoint, Name), Address, _ => Task.Run(ConnectForProxy), Current);
            lock (_gate)
            {
                if (_removed) proxy.Dispose();
                else _proxy = proxy;
            }
        }
        catch (IOException e) { log.Write($"{Name}: no QMP proxy: {e.Message}"); }
    }

    /// <summary>The VM's filesystem, connecting first if it has none; only this VM's callers wait for that.</summary>
    /// <exception cref="FuseException">ENOENT once the VM is gone, ENOTCONN (or ETIMEDOUT) when it cannot be reached.</exception>
    public QomFileSystem FileSystem()
    {
        try { return Connect().Fs; }
        catch (QmpException e) { throw new FuseException(_removed ? Errno.ENOENT : ErrnoMapping.ForConnect(e), e.Message, e); }
    }

    QmpClient ConnectForProxy()
    {
        try { return Connect().Client; }
        catch (QmpException e)
        {
            log.Write($"{Name}: a QMP proxy client was closed: {e.Message}");
            throw;
        }
    }

    (QmpClient Client, QomFileSystem Fs) Connect()
    {
        lock (_gate)
        {
            if (_removed) throw new QmpConnectionException($"{Name} is gone");
            _lastUse = Environment.TickCount64;
            if (_client is { IsConnected: true } && _fs is not null) return (_client, _fs);
            Drop();
            var client = ThreadPump.Run(() => QmpClient.ConnectAsync(Address, QomFsDaemon.QmpOptions(options))).GetAwaiter().GetResult();
            var cache = new QomCache(new QomClient(client), options.CacheTtl);
            var entries = new ConnectionEntries(() => client, _proxy?.Proxy.SocketPath, options.Events);
            var fs = new QomFileSystem(cache, QomFsDaemon.FileSystemOptions(options), log, entries);
            if (mount() is { } kernel)
            {
                var notifier = new FuseSubtreeNotifier(kernel, "/" + Name);
                fs.Mount = _notifier = notifier;
                _deletions = client.SubscribeEvents();
                _ = DeletedDevices.ForgetAsync(_deletions, cache, notifier, log);
            }
            (_client, _cache, _entries, _fs) = (client, cache, entries, fs);
            log.Write($"{Name}: connected to {Address}");
            return (client, fs);
        }
    }

    // What the proxy's clients change is dropped from: the cache of the connection there is, and the kernel's.
    (QomCache, IFuseNotifier?)? Current()
    {
        lock (_gate) return _cache is null ? null : (_cache, _notifier);
    }

    /// <summary>
    /// Closes the connection if nothing used it for <paramref name="idle"/>. A proxy client, and a reader of
    /// <c>.events</c>, is a use for as long as it stays: closing would end its session or its stream.
    /// </summary>
    public void CloseIfIdle(TimeSpan idle)
    {
        lock (_gate)
        {
            if (_proxy is { Proxy.Clients: > 0 } || _entries is { IsStreaming: true }) _lastUse = Environment.TickCount64;
            if (_client is null || Environment.TickCount64 - _lastUse < idle.TotalMilliseconds) return;
            log.Write($"{Name}: idle for {idle.TotalSeconds:0.###} s, connection closed");
            Drop();
        }
    }

    /// <summary>The VM went away: its proxy and connection close, and every later use fails with ENOENT.</summary>
    public void Remove()
    {
        lock (_gate)
        {
            _removed = true;
            _proxy?.Dispose();
            _proxy = null;
            Drop();
        }
    }

    void Drop()
    {
        _deletions?.Dispose();
        _deletions = null;
        _fs?.Destroy();
        _client?.Dispose();
        (_client, _cache, _notifier, _entries, _fs) = (null, null, null, null, null);
    }
}
