using QomFs.Fuse;

namespace QomFs.Host;

/// <summary>
/// A host mount's whole life: watch the source, mount a <see cref="HostFileSystem"/>, serve until unmounted or a
/// signal. VMs going away never end it; their directories vanish.
/// </summary>
public static class HostDaemon
{
    /// <returns>0 after an unmount or a signal.</returns>
    public static async Task<int> RunAsync(QomFsMountOptions o, HostSource source, DaemonLog log, Action ready)
    {
        QomFsDaemon.ClaimMountPoint(o, log);
        if (o.QmpProxy is { } proxies and not "none" && !Directory.Exists(proxies))
            throw new DirectoryNotFoundException($"qmp_proxy={proxies} is not a directory: a host mount puts a socket per VM there (NAME.qmp)");

        using var host = new HostFileSystem(o, log);
        using var watching = Watch(source, host, log);
        host.CloseIdleConnections(o.IdleTimeout);
        using var mount = FuseMount.Mount(o.MountPoint, host, QomFsDaemon.FuseOptions(o, log)).ExitOnSignals();
        host.Mount = mount;

        log.Write($"serving {source} at {o.MountPoint} (pid {Environment.ProcessId}); idle connections close after {o.IdleTimeout.TotalSeconds:0.###} s");
        ready();
        await Task.Factory.StartNew(mount.Run, TaskCreationOptions.LongRunning);
        log.Write($"unmounted {o.MountPoint}");
        return 0;
    }

    static IDisposable Watch(HostSource source, HostFileSystem host, DaemonLog log)
    {
        switch (source)
        {
            case HostSource.Libvirt l:
                return new LibvirtWatch(l.Uri, host, log);
            case HostSource.SocketDirectory d:
                if (!Directory.Exists(d.Path)) throw new DirectoryNotFoundException($"{d.Path} is not a directory");
                return new SocketDirectory(d.Path, host);
            default:
                throw new ArgumentOutOfRangeException(nameof(source));
        }
    }
}
