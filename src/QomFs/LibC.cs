using System.Runtime.InteropServices;

namespace QomFs;

/// <summary>The libc calls the filesystem makes: who mounts it, so that its entries are theirs.</summary>
internal static partial class LibC
{
    [LibraryImport("libc", EntryPoint = "getuid")] internal static partial uint GetUid();
    [LibraryImport("libc", EntryPoint = "getgid")] internal static partial uint GetGid();
}
