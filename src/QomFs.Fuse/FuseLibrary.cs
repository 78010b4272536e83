using System.Runtime.InteropServices;

namespace QomFs.Fuse;

/// <summary>The libfuse this process loads, for `--version`.</summary>
public static class FuseLibrary
{
    /// <summary>fuse_pkgversion() of libfuse3.so.3 (e.g. "3.14.0"), or null when it cannot be loaded.</summary>
    public static unsafe string? Version
    {
        get
        {
            // Loaded on its own, not through the binding's full symbol table: --version must work (and say so)
            // even where that table would not bind.
            if (!NativeLibrary.TryLoad("libfuse3.so.3", out var handle)) return null;
            if (!NativeLibrary.TryGetExport(handle, "fuse_pkgversion", out var symbol)) return null;
            return Marshal.PtrToStringUTF8(((delegate* unmanaged<nint>)symbol)());
        }
    }
}
