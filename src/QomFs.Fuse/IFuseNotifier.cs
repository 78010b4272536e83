namespace QomFs.Fuse;

/// <summary>
/// What a file system tells the kernel of its own accord, by path: that cached attributes, contents or names are
/// stale, or contents to cache. <see cref="FuseMount"/> tells a mount's kernel; <see cref="FuseSubtreeNotifier"/>
/// the same for a file system served under a directory of a bigger one.
/// </summary>
public interface IFuseNotifier
{
    /// <inheritdoc cref="FuseMount.Invalidate"/>
    bool Invalidate(string path, bool attributesOnly = false);

    /// <inheritdoc cref="FuseMount.InvalidateEntry"/>
    bool InvalidateEntry(string directory, string name);

    /// <inheritdoc cref="FuseMount.Store"/>
    bool Store(string path, ReadOnlySpan<byte> data);
}
