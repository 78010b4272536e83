using System.Runtime.InteropServices;
using System.Text;

namespace QomFs.Fuse.Tests;

/// <summary>getxattr(2)/listxattr(2) called directly, to test the size protocol byte for byte.</summary>
static partial class XAttr
{
    public static (int Result, string Value) Get(string path, string name, int size)
    {
        var buffer = new byte[size];
        var n = (int)getxattr(path, name, buffer, (nuint)size);
        return n < 0 ? (-Marshal.GetLastPInvokeError(), "") : (n, Encoding.UTF8.GetString(buffer, 0, Math.Min(n, size)));
    }

    public static string[] List(string path)
    {
        var size = (int)listxattr(path, null, 0);
        var buffer = new byte[size];
        var n = (int)listxattr(path, buffer, (nuint)size);
        return Encoding.UTF8.GetString(buffer, 0, n).Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint getxattr(string path, string name, byte[]? value, nuint size);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint listxattr(string path, byte[]? list, nuint size);
}
