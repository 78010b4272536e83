using QomFs.Fuse;
using QomFs.Qom;

namespace QomFs;

/// <summary>Finds what a mount path names, from its parent's listing (cached, so a path walk costs no QMP traffic).</summary>
sealed class EntryResolver(QomCache cache)
{
    /// <exception cref="FuseException">ENOENT if the parent has no such property; the listing's failure otherwise.</exception>
    public QomEntry Resolve(string path)
    {
        if (path == QomPath.Root) return QomEntry.Root;
        var listing = FuseWorker.Run(() => cache.ListAsync(QomPath.Parent(path)), ErrnoMapping.ForRead);
        var property = listing.Find(QomPath.Name(path)) ?? throw new FuseException(Errno.ENOENT);
        return QomEntry.Of(path, property);
    }

    /// <summary>A path that must name a file (a value): EISDIR otherwise.</summary>
    public QomEntry ResolveFile(string path)
    {
        var entry = Resolve(path);
        return entry.Kind == QomEntryKind.File ? entry : throw new FuseException(Errno.EISDIR);
    }
}
