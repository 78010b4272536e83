using System.Collections.Concurrent;
using QomFs.Fuse;
using QomFs.Qmp;

namespace QomFs.Host;

/// <summary>
/// Every VM of a host under one mount: the root holds a directory per VM, and <c>/NAME/…</c> is the VM's own
/// <see cref="QomFileSystem"/> at <c>/…</c>. VMs come and go through <see cref="Add"/> and <see cref="Remove"/>
/// (from libvirt's lifecycle events or inotify on a socket directory); a name that is not there is ENOENT.
/// </summary>
public sealed class HostFileSystem(QomFsMountOptions options, DaemonLog log) : IFuseFileSystem, IDisposable
{
    readonly ConcurrentDictionary<string, HostVm> _vms = new(StringComparer.Ordinal);
    // The root's mtime: when a VM last came or went, as a directory's mtime says its entries changed.
    // Ticks, so that the watcher's write and a callback's read are never torn.
    long _changed = DateTimeOffset.UtcNow.UtcTicks;
    Timer? _idleTimer;

    /// <summary>For dropping the root's listing, and a VM's directory, from the kernel's cache as VMs come and go.</summary>
    public FuseMount? Mount { get; set; }

    public IEnumerable<string> Names => _vms.Keys;

    public void Add(string name, QmpAddress address)
    {
        if (name.Length == 0 || name.Contains('/') || name is "." or "..") return;
        var vm = new HostVm(name, address, ProxyPath(name), options, log, () => Mount);
        if (_vms.TryAdd(name, vm))
        {
            vm.Share();
            RootChanged(name);
            log.Write($"{name}: appeared ({address})");
        }
    }

    // Once any VM's directory was opened (answered ENOSYS: no round trip), the kernel opens the root so too and
    // caches its listing, which only an invalidation of the root itself drops; the name's entry goes as well.
    void RootChanged(string name)
    {
        Volatile.Write(ref _changed, DateTimeOffset.UtcNow.UtcTicks);
        Mount?.InvalidateEntry("/", name);
        Mount?.Invalidate("/");
    }

    /// <summary>
    /// Where a VM's QMP proxy listens: by default the runtime directory's socket for its directory in the mount
    /// (<c>/run/qomfs/mnt-qom-web1.qmp</c>), <c>NAME.qmp</c> in the directory <c>-o qmp_proxy=DIR</c> gives, or none.
    /// </summary>
    string? ProxyPath(string name) => options.QmpProxy switch
    {
        "none" => null,
        null => MountRegistry.DefaultProxy(Path.Combine(options.MountPoint, name)),
        var dir => Path.Combine(dir, name + ".qmp"),
    };

    public void Remove(string name)
    {
        if (!_vms.TryRemove(name, out var vm)) return;
        vm.Remove();
        RootChanged(name);
        log.Write($"{name}: gone");
    }

    /// <summary>Closes the connections idle for <paramref name="idle"/>, checked every half of it.</summary>
    public void CloseIdleConnections(TimeSpan idle)
    {
        var period = TimeSpan.FromMilliseconds(Math.Max(100, idle.TotalMilliseconds / 2));
        _idleTimer = new Timer(_ => { foreach (var vm in _vms.Values) vm.CloseIfIdle(idle); }, null, period, period);
    }

    // "/NAME/rest" → the VM and "/rest"; "/NAME" → the VM and "/"; "/" → none.
    HostVm? Route(ReadOnlySpan<byte> path, out ReadOnlySpan<byte> rest)
    {
        rest = default;
        if (path.Length <= 1) return null;
        var tail = path[1..];
        var slash = tail.IndexOf((byte)'/');
        var name = System.Text.Encoding.UTF8.GetString(slash < 0 ? tail : tail[..slash]);
        if (!_vms.TryGetValue(name, out var vm)) throw new FuseException(Errno.ENOENT);
        rest = slash < 0 ? "/"u8 : tail[slash..];
        return vm;
    }

    void FillRoot(ref FuseStat stat)
    {
        stat.Mode = FuseStat.S_IFDIR | 0b111_101_101;
        stat.LinkCount = 2;
        stat.Uid = LibC.GetUid();
        stat.Gid = LibC.GetGid();
        var changed = new DateTimeOffset(Volatile.Read(ref _changed), TimeSpan.Zero);
        stat.ModificationTime = stat.ChangeTime = stat.AccessTime = FuseTimespec.FromDateTimeOffset(changed);
    }

    public int GetAttr(ReadOnlySpan<byte> path, ref FuseStat stat, FuseFileInfoRef fi)
    {
        var vm = Route(path, out var rest);
        // A VM's own directory is a directory without asking the VM: `ls -l` of the host connects to none.
        if (vm is null || rest.SequenceEqual("/"u8)) { FillRoot(ref stat); return 0; }
        return vm.FileSystem().GetAttr(rest, ref stat, fi);
    }

    public bool HasVolatileAttributes(ReadOnlySpan<byte> path) => Route(path, out var rest) is not null && ConnectionEntries.IsEvents(rest);

    public int ReadDir(ReadOnlySpan<byte> path, ref FuseDirectoryFiller filler, ulong offset, FuseReadDirFlags flags, FuseFileInfoRef fi)
    {
        var vm = Route(path, out var rest);
        if (vm is not null) return vm.FileSystem().ReadDir(rest, ref filler, offset, flags, fi);
        var stat = default(FuseStat);
        FillRoot(ref stat);
        if (!filler.Add(".", stat) || !filler.Add("..")) return 0;
        // The VMs' own attributes would connect to each: a name is all a listing of the host needs.
        foreach (var name in _vms.Keys.Order(StringComparer.Ordinal))
            if (!filler.Add(name)) break;
        return 0;
    }

    public int ReadLink(ReadOnlySpan<byte> path, Span<byte> buffer) =>
        Route(path, out var rest) is { } vm ? vm.FileSystem().ReadLink(rest, buffer) : -Errno.EINVAL;

    public int Open(ReadOnlySpan<byte> path, ref FuseFileInfo fi) =>
        Route(path, out var rest) is { } vm ? vm.FileSystem().Open(rest, ref fi) : -Errno.EISDIR;

    public ValueTask<int> ReadAsync(ReadOnlySpan<byte> path, ulong offset, Memory<byte> buffer, FuseFileInfo fi) =>
        Route(path, out var rest) is { } vm ? vm.FileSystem().ReadAsync(rest, offset, buffer, fi) : new(-Errno.EISDIR);

    public int Write(ReadOnlySpan<byte> path, ulong offset, ReadOnlySpan<byte> data, ref FuseFileInfo fi) =>
        Route(path, out var rest) is { } vm ? vm.FileSystem().Write(rest, offset, data, ref fi) : -Errno.EISDIR;

    public int Truncate(ReadOnlySpan<byte> path, ulong length, FuseFileInfoRef fi) =>
        Route(path, out var rest) is { } vm ? vm.FileSystem().Truncate(rest, length, fi) : -Errno.EISDIR;

    // The root answers 0, never ENOSYS as a VM's directories do with a cache: ENOSYS turns OPENDIR off for the whole
    // connection, so the root would choose for VMs mounted without a cache (cache_ttl=0) too.
    public int OpenDir(ReadOnlySpan<byte> path, ref FuseFileInfo fi) =>
        Route(path, out var rest) is { } vm ? vm.FileSystem().OpenDir(rest, ref fi) : 0;

    public int Flush(ReadOnlySpan<byte> path, ref FuseFileInfo fi) => -Errno.ENOSYS;

    public int Release(ReadOnlySpan<byte> path, ref FuseFileInfo fi) =>
        Route(path, out var rest) is { } vm ? vm.FileSystem().Release(rest, ref fi) : 0;

    public int Utimens(ReadOnlySpan<byte> path, in FuseTimespec access, in FuseTimespec modification, FuseFileInfoRef fi) =>
        Route(path, out var rest) is { } vm ? vm.FileSystem().Utimens(rest, access, modification, fi) : -Errno.EPERM;

    public int Create(ReadOnlySpan<byte> path, uint mode, ref FuseFileInfo fi) =>
        Route(path, out var rest) is { } vm ? vm.FileSystem().Create(rest, mode, ref fi) : -Errno.EACCES;

    public int GetXAttr(ReadOnlySpan<byte> path, ReadOnlySpan<byte> name, Span<byte> value) =>
        Route(path, out var rest) is { } vm ? vm.FileSystem().GetXAttr(rest, name, value) : -Errno.ENODATA;

    public int ListXAttr(ReadOnlySpan<byte> path, Span<byte> list) =>
        Route(path, out var rest) is { } vm ? vm.FileSystem().ListXAttr(rest, list) : 0;

    public int StatFs(ReadOnlySpan<byte> path, ref FuseStatVfs stat)
    {
        stat.BlockSize = 4096;
        stat.FragmentSize = 4096;
        stat.NameMax = 255;
        return 0;
    }

    public void Destroy() => Dispose();

    public void Dispose()
    {
        _idleTimer?.Dispose();
        foreach (var name in _vms.Keys) Remove(name);
    }
}
