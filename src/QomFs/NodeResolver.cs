using QomFs.Fuse;
using QomFs.Qom;

namespace QomFs;

/// <summary>Finds what a mount path names, from its parent's listing (cached, so a path walk costs no QMP traffic).</summary>
sealed class NodeResolver(QomCache cache)
{
    /// <exception cref="FuseException">ENOENT if the parent has no such property; the listing's failure otherwise.</exception>
    public Node Resolve(string path)
    {
        if (path == QomPath.Root) return Node.Root;
        var listing = FuseWorker.Run(() => cache.ListAsync(QomPath.Parent(path)), ErrnoMapping.ForRead);
        var property = listing.Find(QomPath.Name(path)) ?? throw new FuseException(Errno.ENOENT);
        return Node.Of(path, property);
    }

    /// <summary>A path that must name a file (a value): EISDIR otherwise.</summary>
    public Node ResolveFile(string path)
    {
        var node = Resolve(path);
        return node.Kind == NodeKind.File ? node : throw new FuseException(Errno.EISDIR);
    }
}
