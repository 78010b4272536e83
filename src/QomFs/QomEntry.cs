using QomFs.Qom;

namespace QomFs;

enum QomEntryKind { Directory, Link, File }

/// <summary>
/// What a mount path names. The mount's root is QOM's root, so a mount path is a QOM path: an object is a
/// directory, and every other entry is a property of its parent directory's object.
/// </summary>
readonly record struct QomEntry(QomEntryKind Kind, string Path, QomProperty? Property)
{
    /// <summary>The object that owns the property this entry shows (for the root, the root itself).</summary>
    public string Owner => Property is null ? Path : QomPath.Parent(Path);
    public string Name => QomPath.Name(Path);

    public static QomEntry Root { get; } = new(QomEntryKind.Directory, QomPath.Root, null);

    public static QomEntry Of(string path, QomProperty property) => new(property.Kind switch
    {
        QomPropertyKind.Child => QomEntryKind.Directory,
        QomPropertyKind.Link => QomEntryKind.Link,
        _ => QomEntryKind.File,
    }, path, property);
}
