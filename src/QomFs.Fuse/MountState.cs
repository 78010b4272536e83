using System.Runtime.InteropServices;
using QomFs.Fuse.Native;

namespace QomFs.Fuse;

/// <summary>
/// What the static callbacks need to find for a request: the file system and its options. libfuse hands the
/// GCHandle back as private_data in every request's fuse_context, so several mounts can live in one process.
/// </summary>
internal sealed class MountState(IFuseFileSystem fileSystem, FuseMountOptions options)
{
    public IFuseFileSystem FileSystem { get; } = fileSystem;
    public FuseMountOptions Options { get; } = options;

    public static unsafe MountState FromPrivateData(void* privateData) =>
        (MountState)GCHandle.FromIntPtr((nint)privateData).Target!;

    public static unsafe MountState Current => FromPrivateData(LibFuse.GetContext()->PrivateData);
}
