using QomFs.Qmp;

namespace QomFs.Host;

/// <summary>
/// The QMP sockets in a directory, as a launcher leaves them there: each socket is a VM, named after the file
/// without its extension (<c>web1.qmp</c> → <c>web1</c>). inotify (FileSystemWatcher) reports sockets made, removed
/// or renamed; nothing polls.
/// </summary>
public sealed class SocketDirectory : IDisposable
{
    readonly FileSystemWatcher _watcher;
    readonly HostFileSystem _host;
    readonly string _directory;

    public SocketDirectory(string directory, HostFileSystem host)
    {
        _directory = Path.GetFullPath(directory);
        _host = host;
        // Watching first, then the first scan: a socket made in between is seen by one or both, and Add is idempotent.
        _watcher = new FileSystemWatcher(_directory) { IncludeSubdirectories = false };
        _watcher.Created += (_, e) => Appeared(e.FullPath);
        _watcher.Deleted += (_, e) => _host.Remove(NameOf(e.FullPath));
        _watcher.Renamed += (_, e) => { _host.Remove(NameOf(e.OldFullPath)); Appeared(e.FullPath); };
        _watcher.EnableRaisingEvents = true;
        foreach (var path in Directory.EnumerateFileSystemEntries(_directory)) Appeared(path);
    }

    public static string NameOf(string path) => Path.GetFileNameWithoutExtension(path);

    // A socket, or a symbolic link to one; anything else in the directory is not a VM.
    void Appeared(string path)
    {
        if (QmpAddress.IsUnixSocket(path)) _host.Add(NameOf(path), QmpAddress.Unix(path));
    }

    public void Dispose() => _watcher.Dispose();
}
