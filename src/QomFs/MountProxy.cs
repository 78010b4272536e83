using System.Text.Json;
using QomFs.Fuse;
using QomFs.Qmp;
using QomFs.Qmp.Proxy;
using QomFs.Qom;

namespace QomFs;

/// <summary>
/// The QMP proxy of a mount, or of one VM of a host mount: registered for this user's tools (<see cref="MountRegistry"/>),
/// and what its clients change leaves the cache and the kernel's: a <c>qom-set</c> drops that value, an
/// <c>object-add</c> or <c>object-del</c> that object (a <c>device_del</c> is followed by DEVICE_DELETED, which the
/// daemon handles for every client alike).
/// </summary>
sealed class MountProxy(QmpProxy proxy, string mountPoint) : IDisposable
{
    /// <summary>A mount's proxy, on its connection of the moment.</summary>
    public static MountProxy Start(string path, string mountPoint, QmpClient qmp, QomCache cache, IFuseNotifier mount)
    {
        var proxy = QmpProxy.Start(path, qmp, new QmpProxyOptions { CommandCompleted = (name, args) => Forget(name, args, cache, mount) });
        MountRegistry.Register(mountPoint, qmp.Address, path);
        return new MountProxy(proxy, mountPoint);
    }

    /// <summary>
    /// A host mount's VM's proxy at <paramref name="directory"/> (the VM's directory in the mount): a client is served
    /// on the VM's connection, opened by <paramref name="connect"/> if it has none; <paramref name="current"/> is that
    /// connection's cache and what the kernel is told through.
    /// </summary>
    public static MountProxy Start(string path, string directory, QmpAddress address, Func<CancellationToken, Task<QmpClient>> connect,
        Func<(QomCache Cache, IFuseNotifier? Mount)?> current)
    {
        var proxy = QmpProxy.Start(path, connect, new QmpProxyOptions
        {
            CommandCompleted = (name, args) =>
            {
                if (current() is var (cache, mount)) Forget(name, args, cache, mount);
            },
        });
        MountRegistry.Register(directory, address, path);
        return new MountProxy(proxy, directory);
    }

    public QmpProxy Proxy => proxy;

    static void Forget(string command, JsonElement args, QomCache cache, IFuseNotifier? mount)
    {
        switch (command)
        {
            case "qom-set" when String(args, "path") is { } path && String(args, "property") is { } property:
                // A partial path names an object QEMU finds itself: the cache cannot tell which.
                if (!path.StartsWith('/')) { cache.Clear(); return; }
                path = QomPath.Canonical(path);
                cache.InvalidateValue(path, property);
                mount?.Invalidate(QomPath.Combine(path, property));
                break;
            case "device_add":
                // The device's own directory, and links to it from its bus and elsewhere that the cache cannot
                // name: all of the cache goes. The kernel forgets where the new directory goes.
                cache.Clear();
                if (String(args, "id") is { } device)
                {
                    mount?.InvalidateEntry("/machine/peripheral", device);
                    mount?.Invalidate("/machine/peripheral");
                }
                else mount?.Invalidate("/machine/peripheral-anon");
                break;
            case "object-add" or "object-del" when String(args, "id") is { } id:
                cache.InvalidateSubtree("/objects/" + id);
                mount?.InvalidateEntry("/objects", id);
                mount?.Invalidate("/objects");
                break;
        }
    }

    static string? String(JsonElement args, string name) =>
        args.ValueKind == JsonValueKind.Object && args.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public void Dispose()
    {
        MountRegistry.Unregister(mountPoint);
        proxy.Dispose();
    }
}
