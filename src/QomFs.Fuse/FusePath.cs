using System.Text;

namespace QomFs.Fuse;

/// <summary>Paths arrive as spans of UTF-8 bytes so that hot paths need not allocate; this is for when a string is wanted.</summary>
public static class FusePath
{
    public static string GetString(ReadOnlySpan<byte> path) => Encoding.UTF8.GetString(path);
}
