using QomFs.Fuse;
using QomFs.Qmp;
using QomFs.Qom;

namespace QomFs.Host;

/// <summary>
/// One VM of a host mount: its address, and, while it is in use, its own connection, cache and filesystem. Nothing
/// is sent to the VM until its directory is first used; <see cref="CloseIfIdle"/> closes the connection once it has
/// been idle, and the next use opens a new one. A connection that was lost is dropped the same way. What the VM
/// tells the kernel (a deleted device, listed values) goes to the host mount under /NAME.
/// </summary>
sealed class HostVm(string name, QmpAddress address, QomFsMountOptions options, DaemonLog log, Func<IFuseNotifier?> mount)
{
    readonly Lock _gate = new();
    QmpClient? _client;
    QmpEventSubscription? _deletions;
    QomFileSystem? _fs;
    long _lastUse;
    bool _removed;

    public string Name { get; } = name;
    public QmpAddress Address { get; } = address;

    /// <summary>The VM's filesystem, connecting first if it has none; only this VM's callers wait for that.</summary>
    /// <exception cref="FuseException">ENOENT once the VM is gone, ENOTCONN (or ETIMEDOUT) when it cannot be reached.</exception>
    public QomFileSystem FileSystem()
    {
        lock (_gate)
        {
            if (_removed) throw new FuseException(Errno.ENOENT, $"{Name} is gone");
            _lastUse = Environment.TickCount64;
            if (_client is { IsConnected: true } && _fs is not null) return _fs;
            Drop();
            var qmpOptions = new QmpClientOptions
            {
                CommandTimeout = options.Timeout,
                ConnectTimeout = options.Timeout,
                SendAheadArgument = Address.Kind == QmpAddressKind.Libvirt ? null : "path",
            };
            var client = FuseWorker.Run(() => QmpClient.ConnectAsync(Address, qmpOptions), ErrnoMappingForConnect);
            var cache = new QomCache(new QomClient(client), options.CacheTtl);
            _client = client;
            // With -o events each VM directory shows its own .events; no proxy per VM yet.
            _fs = new QomFileSystem(cache, new QomFsOptions { ReadOnly = options.ReadOnly, Uid = LibC.GetUid(), Gid = LibC.GetGid() }, log,
                new ConnectionEntries(() => client, proxyPath: null, options.Events));
            if (mount() is { } kernel)
            {
                var notifier = new FuseSubtreeNotifier(kernel, "/" + Name);
                _fs.Mount = notifier;
                _deletions = client.SubscribeEvents();
                _ = DeletedDevices.ForgetAsync(_deletions, cache, notifier, log);
            }
            log.Write($"{Name}: connected to {Address}");
            return _fs;
        }
    }

    static int ErrnoMappingForConnect(Exception e) => e is QmpTimeoutException ? Errno.ETIMEDOUT : Errno.ENOTCONN;

    /// <summary>Closes the connection if nothing used it for <paramref name="idle"/>.</summary>
    public void CloseIfIdle(TimeSpan idle)
    {
        lock (_gate)
        {
            if (_client is null || Environment.TickCount64 - _lastUse < idle.TotalMilliseconds) return;
            log.Write($"{Name}: idle for {idle.TotalSeconds:0.###} s, connection closed");
            Drop();
        }
    }

    /// <summary>The VM went away: its connection closes, and every later use fails with ENOENT.</summary>
    public void Remove()
    {
        lock (_gate)
        {
            _removed = true;
            Drop();
        }
    }

    void Drop()
    {
        _deletions?.Dispose();
        _deletions = null;
        _fs?.Destroy();
        _client?.Dispose();
        _client = null;
        _fs = null;
    }
}
