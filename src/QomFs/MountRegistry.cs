using QomFs.Qmp;

namespace QomFs;

/// <summary>
/// Where a mount's QMP proxy is, for this user's tools: one small file per mount in the user's private runtime
/// directory (<c>$XDG_RUNTIME_DIR/qomfs</c>, <c>/run/qomfs</c> for root, else <c>/tmp/qomfs-UID</c>, all mode 0700),
/// naming the QEMU address it holds, its proxy socket and the daemon's PID. A tool given that QEMU's address
/// connects to the proxy instead (<see cref="Through"/>): QEMU's socket serves one client at a time, and the
/// mount is that client. A file left by a daemon that was killed names a dead PID: it is ignored, and removed with
/// its socket by the next mount of this user.
/// </summary>
public static class MountRegistry
{
    /// <summary>The runtime directory, made (mode 0700) if missing.</summary>
    public static string Directory()
    {
        var uid = LibC.GetUid();
        var dir = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } xdg ? Path.Combine(xdg, "qomfs")
            : uid == 0 ? "/run/qomfs"
            : $"/tmp/qomfs-{uid}";
        System.IO.Directory.CreateDirectory(dir);
        LibC.Chmod(dir, 0b111_000_000);
        return dir;
    }

    /// <summary>A mount's default proxy socket: its mountpoint's path with '/' as '-', e.g. <c>tmp-qom.qmp</c>.</summary>
    public static string DefaultProxy(string mountPoint) => Path.Combine(Directory(), Name(mountPoint) + ".qmp");

    static string Name(string mountPoint)
    {
        var name = mountPoint.Trim('/').Replace('/', '-');
        // A unix socket's path has room for 107 bytes: a long mountpoint is named by a hash of it.
        return name.Length is > 0 and <= 64 ? name
            : Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(mountPoint)))[..16];
    }

    static string EntryFile(string mountPoint) => Path.Combine(Directory(), Name(mountPoint) + ".mount");

    /// <summary>Records that this process's mount at <paramref name="mountPoint"/> serves <paramref name="qemu"/> at <paramref name="proxy"/>.</summary>
    public static void Register(string mountPoint, QmpAddress qemu, string proxy)
    {
        RemoveDead();
        File.WriteAllLines(EntryFile(mountPoint), [Canonical(qemu), proxy, Environment.ProcessId.ToString()]);
    }

    // The entries of daemons that are gone (killed: they could not remove their own), and their proxy sockets.
    static void RemoveDead()
    {
        try
        {
            foreach (var file in System.IO.Directory.EnumerateFiles(Directory(), "*.mount"))
            {
                if (ReadEntry(file) is not { } entry || IsAlive(entry.Pid)) continue;
                QomFs.Qmp.Proxy.QmpProxy.RemoveIfDead(entry.Proxy);
                File.Delete(file);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    static (string Qemu, string Proxy, int Pid)? ReadEntry(string file)
    {
        var lines = File.ReadAllLines(file);
        return lines.Length == 3 && int.TryParse(lines[2], out var pid) ? (lines[0], lines[1], pid) : null;
    }

    static bool IsAlive(int pid) => System.IO.Directory.Exists($"/proc/{pid}");

    public static void Unregister(string mountPoint)
    {
        try { File.Delete(EntryFile(mountPoint)); } catch (IOException) { }
    }

    /// <summary>The proxy of a live mount of this user that holds <paramref name="qemu"/>; else <paramref name="qemu"/> itself.</summary>
    public static QmpAddress Through(QmpAddress qemu)
    {
        try
        {
            var wanted = Canonical(qemu);
            foreach (var file in System.IO.Directory.EnumerateFiles(Directory(), "*.mount"))
            {
                if (ReadEntry(file) is { } entry && entry.Qemu == wanted && IsAlive(entry.Pid) && File.Exists(entry.Proxy))
                    return QmpAddress.Unix(entry.Proxy);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return qemu;
    }

    // A unix socket by its real path, so that a relative path or one through a symlink names the same QEMU.
    static string Canonical(QmpAddress a)
    {
        if (a.Kind != QmpAddressKind.Unix || !File.Exists(a.Path)) return a.ToString();
        var full = Path.GetFullPath(a.Path);
        return new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
    }
}
