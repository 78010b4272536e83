using QomFs.Fuse;
using QomFs.Qmp;
using QomFs.Qom;

namespace QomFs;

/// <summary>
/// A mount's whole life: connect to QEMU, mount, serve until unmounted, a signal, or QEMU going away, and
/// leave no mount behind in any of those cases.
/// </summary>
public static class QomFsDaemon
{
    /// <returns>0 after an unmount or a signal; 1 when QEMU went away.</returns>
    /// <param name="ready">called once the mount is live.</param>
    public static async Task<int> RunAsync(QomFsMountOptions o, DaemonLog log, Action ready)
    {
        if (!Directory.Exists(o.MountPoint)) throw new DirectoryNotFoundException($"mountpoint {o.MountPoint} is not a directory");
        if (FuseMountPoint.ClearStale(o.MountPoint)) log.Write($"cleared a dead mount at {o.MountPoint}");
        if (FuseMountPoint.IsMounted(o.MountPoint)) throw new IOException($"{o.MountPoint} is already mounted");

        await using var qmp = await QmpClient.ConnectAsync(o.Address,
            new QmpClientOptions { CommandTimeout = o.Timeout, ConnectTimeout = o.Timeout });
        var cache = new QomCache(new QomClient(qmp), o.CacheTtl);
        var fs = new QomFileSystem(cache, new QomFsOptions { ReadOnly = o.ReadOnly, Uid = getuid(), Gid = getgid() }, log);
        var ttl = o.CacheTtl.TotalSeconds;

        using var mount = FuseMount.Mount(o.MountPoint, fs, new FuseMountOptions
        {
            ReadOnly = o.ReadOnly,
            AllowOther = o.AllowOther,
            DefaultPermissions = o.DefaultPermissions,
            FsName = o.FsName,
            Subtype = "qomfs",
            ExtraOptions = o.ExtraOptions,
            EntryTimeout = ttl,
            AttrTimeout = ttl,
            NegativeTimeout = ttl,
            UnhandledException = e => log.Write($"internal error: {e}"),
        }).ExitOnSignals();

        var qemuGone = 0;
        _ = qmp.Disconnected.ContinueWith(t =>
        {
            Volatile.Write(ref qemuGone, 1);
            log.Write($"QEMU went away ({t.Result.Message}); unmounting {o.MountPoint}");
            mount.Exit();
        }, TaskScheduler.Default);
        using var events = qmp.SubscribeEvents();
        _ = ForgetDeletedDevicesAsync(events, cache, log);

        log.Write($"serving {o.Address} at {o.MountPoint} (pid {Environment.ProcessId})");
        ready();
        await Task.Factory.StartNew(mount.Run, TaskCreationOptions.LongRunning);
        log.Write($"unmounted {o.MountPoint}");
        return Volatile.Read(ref qemuGone);
    }

    // A deleted device's subtree must not outlive it in the cache for a whole TTL.
    static async Task ForgetDeletedDevicesAsync(QmpEventSubscription events, QomCache cache, DaemonLog log)
    {
        await foreach (var e in events.Reader.ReadAllAsync())
        {
            if (e.Name != "DEVICE_DELETED" || !e.Data.TryGetProperty("path", out var p) || p.GetString() is not { } path) continue;
            log.Write($"device {path} deleted");
            cache.InvalidateSubtree(path);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc")] static extern uint getuid();
    [System.Runtime.InteropServices.DllImport("libc")] static extern uint getgid();
}
