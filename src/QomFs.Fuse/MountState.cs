using System.Runtime.InteropServices;
using QomFs.Fuse.Native;

namespace QomFs.Fuse;

/// <summary>
/// What the static callbacks need to find for a request: the file system, its options and its node table.
/// libfuse hands the GCHandle back as every request's userdata, so several mounts can live in one process.
/// </summary>
internal sealed class MountState(IFuseFileSystem fileSystem, FuseMountOptions options)
{
    [ThreadStatic] static nint _request;

    public IFuseFileSystem FileSystem { get; } = fileSystem;
    public FuseMountOptions Options { get; } = options;
    public NodeTable Nodes { get; } = new();

    /// <summary>
    /// Reads to be answered after their callback returned (<see cref="IFuseFileSystem.ReadAsync"/>), plus one for
    /// the mount itself: the session must outlive every such reply.
    /// </summary>
    public CountdownEvent LateReplies { get; } = new(1);

    public static unsafe MountState FromUserData(void* userData) =>
        (MountState)GCHandle.FromIntPtr((nint)userData).Target!;

    /// <summary>The state of <paramref name="request"/>'s mount; the request becomes this thread's current one.</summary>
    public static unsafe MountState For(nint request)
    {
        _request = request;
        return FromUserData(LibFuse.ReqUserData(request));
    }

    /// <summary>
    /// The request this thread serves or last served (0 on threads that never served one). Valid until its reply,
    /// which every callback sends after the file system returns; libfuse's workers run nothing but callbacks.
    /// </summary>
    public static nint CurrentRequest => _request;
}
