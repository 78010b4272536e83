namespace QomFs.Fuse;

/// <summary>
/// Notifications of a file system that a bigger one serves at <paramref name="directory"/> (e.g. "/vm1"): its paths
/// ("/", "/a/b") become the mount's ("/vm1", "/vm1/a/b").
/// </summary>
public sealed class FuseSubtreeNotifier(IFuseNotifier mount, string directory) : IFuseNotifier
{
    string Outer(string path) => path == "/" ? directory : directory + path;

    public bool Invalidate(string path, bool attributesOnly = false) => mount.Invalidate(Outer(path), attributesOnly);

    public bool InvalidateEntry(string directory, string name) => mount.InvalidateEntry(Outer(directory), name);

    public bool Store(string path, ReadOnlySpan<byte> data) => mount.Store(Outer(path), data);
}
