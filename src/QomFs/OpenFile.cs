using QomFs.Qom;

namespace QomFs;

/// <summary>
/// The state of one open property file. A read takes a snapshot of the value (fresh at offset 0), so that a
/// value read in several chunks is never torn. Writes are assembled here, sysfs-style, and set as one value.
/// </summary>
sealed class OpenFile(string objectPath, QomProperty property)
{
    public Lock Gate { get; } = new();
    public string ObjectPath { get; } = objectPath;
    public QomProperty Property { get; } = property;

    public byte[]? Snapshot { get; set; }

    /// <summary>Everything this open file has written so far (since the last truncate).</summary>
    public MemoryStream Written { get; } = new();

    /// <summary>Written bytes that were not set yet.</summary>
    public bool Dirty { get; set; }

    /// <summary>
    /// The errno of a write that broke the value (too large, or at the wrong offset): nothing of it may be set
    /// later, and every further write fails the same way.
    /// </summary>
    public int Broken { get; set; }

    public int Break(int errno)
    {
        Broken = errno;
        Dirty = false;
        Written.SetLength(0);
        return -errno;
    }
}
