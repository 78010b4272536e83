using QomFs.Fuse;
using QomFs.Qmp;
using QomFs.Qom;

namespace QomFs;

/// <summary>
/// A mount's whole life: connect to QEMU, mount, serve until unmounted, a signal, or QEMU going away, and
/// leave no mount behind in any of those cases. With reconnect, QEMU going away leaves the mount up, failing
/// operations with ENOTCONN, until a QEMU listens on the same socket again.
/// </summary>
public static class QomFsDaemon
{
    /// <returns>0 after an unmount or a signal; 1 when QEMU went away.</returns>
    /// <param name="ready">called once the mount is live.</param>
    public static async Task<int> RunAsync(QomFsMountOptions o, DaemonLog log, Action ready)
    {
        if (o.Host is { } host) return await Host.HostDaemon.RunAsync(o, host, log, ready);
        ClaimMountPoint(o, log);

        var qmpOptions = QmpOptions(o);
        var qom = new QomClient(await QmpClient.ConnectAsync(o.Address, qmpOptions));
        var cache = new QomCache(qom, o.CacheTtl);
        var proxyPath = o.QmpProxy is "none" ? null : o.QmpProxy ?? MountRegistry.DefaultProxy(o.MountPoint);
        var fs = new QomFileSystem(cache, FileSystemOptions(o), log, new ConnectionEntries(() => qom.Qmp, proxyPath, o.Events));

        using var mount = FuseMount.Mount(o.MountPoint, fs, FuseOptions(o, log)).ExitOnSignals();
        fs.Mount = mount;
        // One proxy per connection: a QEMU that comes back (reconnect) is served by a new one.
        MountProxy? Share(QmpClient qmp) => proxyPath is null ? null : MountProxy.Start(proxyPath, o.MountPoint, qmp, cache, mount);
        var proxy = Share(qom.Qmp);

        using var stop = new CancellationTokenSource();
        var watch = WatchAsync(o, qmpOptions, qom, cache, log, mount, proxy, Share, stop.Token);

        if (proxy is not null) log.Write($"sharing {o.Address} at {proxyPath}");
        log.Write($"serving {o.Address} at {o.MountPoint} (pid {Environment.ProcessId})");
        ready();
        await Task.Factory.StartNew(mount.Run, TaskCreationOptions.LongRunning);
        log.Write($"unmounted {o.MountPoint}");
        stop.Cancel();
        var qemuGone = await watch;
        qom.Qmp.Dispose();
        return qemuGone ? 1 : 0;
    }

    /// <summary>The mountpoint is free for a new mount: a dead one is cleared first; otherwise one clear exception.</summary>
    internal static void ClaimMountPoint(QomFsMountOptions o, DaemonLog log)
    {
        // A dead mount first: until it is cleared, the mountpoint does not even look like a directory.
        if (FuseMountPoint.ClearStale(o.MountPoint)) log.Write($"cleared a dead mount at {o.MountPoint}");
        if (!Directory.Exists(o.MountPoint)) throw new DirectoryNotFoundException($"mountpoint {o.MountPoint} is not a directory");
        if (FuseMountPoint.IsMounted(o.MountPoint)) throw new IOException($"{o.MountPoint} is already mounted");
    }

    /// <summary>A VM's connection, in a mount of its own or of a host.</summary>
    internal static QmpClientOptions QmpOptions(QomFsMountOptions o) => new()
    {
        CommandTimeout = o.Timeout,
        ConnectTimeout = o.Timeout,
        // Every QOM command begins with "path" (qom-list-get with "paths"), and a reader waits for each value
        // before it asks for the next: QEMU reads the next command's opening meanwhile (on a socket; libvirt's
        // transport sends each command whole).
        SendAheadArgument = "path",
    };

    /// <summary>A VM's file system, in a mount of its own or of a host.</summary>
    internal static QomFsOptions FileSystemOptions(QomFsMountOptions o) => new() { ReadOnly = o.ReadOnly, Uid = LibC.GetUid(), Gid = LibC.GetGid() };

    /// <summary>What libfuse and the kernel are told for a mount, of one VM or of a host.</summary>
    internal static FuseMountOptions FuseOptions(QomFsMountOptions o, DaemonLog log) => new()
    {
        ReadOnly = o.ReadOnly,
        AllowOther = o.AllowOther,
        // Always: the kernel then enforces the modes we show, so allow_other lets other users read, never write.
        DefaultPermissions = true,
        // The kernel then keeps each file's answer to system.posix_acl_access, which `ls -l` asks for every
        // entry. Only for the owner alone: the root directory's node is made before the kernel knows, so with
        // allow_other (or allow_root) every path walk by another user would ask for the root's ACL.
        PosixAcls = !o.AllowOther && !o.ExtraOptions.Contains("allow_root"),
        FsName = o.FsName,
        Subtype = "qomfs",
        ExtraOptions = o.ExtraOptions,
        EntryTimeout = o.CacheTtl.TotalSeconds,
        AttrTimeout = o.CacheTtl.TotalSeconds,
        NegativeTimeout = o.CacheTtl.TotalSeconds,
        // A listing's attributes come from the one qom-list, for the CPU's 443 entries as for 5.
        AttributesWithEveryBatch = true,
        UnhandledException = e => log.Write($"internal error: {e}"),
    };

    /// <summary>
    /// Follows the connection: forgets deleted devices, and when QEMU goes away either ends the mount or, with
    /// reconnect, waits for a QEMU on the same socket, with a growing pause between tries so that nothing spins.
    /// </summary>
    /// <returns>true if the mount ended because QEMU went away.</returns>
    static async Task<bool> WatchAsync(QomFsMountOptions o, QmpClientOptions qmpOptions, QomClient qom, QomCache cache,
        DaemonLog log, FuseMount mount, MountProxy? proxy, Func<QmpClient, MountProxy?> share, CancellationToken stop)
    {
        while (true)
        {
            var qmp = qom.Qmp;
            using (proxy)
            using (var events = qmp.SubscribeEvents())
            {
                var forgetting = DeletedDevices.ForgetAsync(events, cache, mount, log);
                var gone = await Task.WhenAny(qmp.Disconnected, Task.Delay(Timeout.Infinite, stop)).ConfigureAwait(false);
                if (gone != qmp.Disconnected) return false;
                log.Write($"QEMU went away ({qmp.Disconnected.Result.Message})");
                await forgetting.ConfigureAwait(false);
            }
            cache.Clear();
            if (!o.Reconnect)
            {
                log.Write($"unmounting {o.MountPoint}");
                mount.Exit();
                return true;
            }

            var pause = TimeSpan.FromMilliseconds(100);
            while (true)
            {
                try { await Task.Delay(pause, stop).ConfigureAwait(false); }
                catch (OperationCanceledException) { return false; }
                try
                {
                    qom.UseConnection(await QmpClient.ConnectAsync(o.Address, qmpOptions, stop).ConfigureAwait(false));
                    cache.Clear();
                    try { proxy = share(qom.Qmp); }
                    catch (IOException e) { log.Write($"no QMP proxy: {e.Message}"); proxy = null; }
                    log.Write($"reconnected to {o.Address}");
                    break;
                }
                catch (QmpException) { pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(5).Ticks)); }
                catch (OperationCanceledException) { return false; }
            }
        }
    }
}
