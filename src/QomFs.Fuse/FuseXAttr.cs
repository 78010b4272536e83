namespace QomFs.Fuse;

/// <summary>The getxattr(2)/listxattr(2) size protocol, so each file system does not reimplement it.</summary>
public static class FuseXAttr
{
    /// <summary>
    /// Copies <paramref name="value"/> into <paramref name="buffer"/>: an empty buffer gets the needed size,
    /// a too-small one -ERANGE, otherwise the byte count copied.
    /// </summary>
    public static int Copy(ReadOnlySpan<byte> value, Span<byte> buffer)
    {
        if (buffer.IsEmpty) return value.Length;
        if (buffer.Length < value.Length) return -Errno.ERANGE;
        value.CopyTo(buffer);
        return value.Length;
    }
}
