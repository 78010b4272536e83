using System.Runtime.InteropServices;
using QomFs.Fuse.Native;

namespace QomFs.Fuse;

/// <summary>
/// What the static callbacks need to find for a request: the file system, its options and its node table.
/// libfuse hands the GCHandle back as every request's userdata, so several mounts can live in one process.
/// </summary>
internal sealed class MountState(IFuseFileSystem fileSystem, FuseMountOptions options)
{
    [ThreadStatic] static FuseContext _caller;

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

    /// <summary>
    /// The state of <paramref name="request"/>'s mount, for a callback starting on it: who made the request becomes
    /// this thread's <see cref="FuseContext.Current"/>. A copy, so that it never points into a request answered
    /// since (a read may be answered on another thread, after its callback returned).
    /// </summary>
    public static unsafe MountState EnterCallback(nint request)
    {
        var c = LibFuse.ReqCtx(request);
        _caller = new FuseContext(c->Uid, c->Gid, c->Pid, c->Umask);
        return FromRequest(request);
    }

    /// <summary>The state of <paramref name="request"/>'s mount, from any thread; <see cref="Caller"/> stays as it was.</summary>
    public static unsafe MountState FromRequest(nint request) => FromUserData(LibFuse.ReqUserData(request));

    /// <summary>Who made the request this thread serves or served last; zeros on threads that never served one.</summary>
    public static FuseContext Caller => _caller;
}
