using System.Runtime.InteropServices;

namespace QomFs;

/// <summary>The libc calls the filesystem makes: who mounts it, so that its entries are theirs; the mode of the private runtime directory.</summary>
internal static partial class LibC
{
    [LibraryImport("libc", EntryPoint = "getuid")] internal static partial uint GetUid();
    [LibraryImport("libc", EntryPoint = "getgid")] internal static partial uint GetGid();
    [LibraryImport("libc", EntryPoint = "chmod", StringMarshalling = StringMarshalling.Utf8)] internal static partial int Chmod(string path, uint mode);
}
