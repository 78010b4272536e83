using QomFs.Fuse;
using QomFs.Qmp;
using QomFs.Qom;

namespace QomFs;

/// <summary>A deleted device's subtree must not outlive it in our cache or the kernel's for a whole TTL.</summary>
static class DeletedDevices
{
    /// <summary>Forgets each device that DEVICE_DELETED names, until the subscription ends.</summary>
    public static async Task ForgetAsync(QmpEventSubscription events, QomCache cache, IFuseNotifier kernel, DaemonLog log)
    {
        await foreach (var e in events.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            if (e.Name != "DEVICE_DELETED" || !e.Data.TryGetProperty("path", out var p) || p.GetString() is not { } path) continue;
            log.Write($"device {path} deleted");
            cache.InvalidateSubtree(path);
            var parent = QomPath.Parent(path);
            kernel.InvalidateEntry(parent, QomPath.Name(path));
            kernel.Invalidate(parent);
        }
    }
}
