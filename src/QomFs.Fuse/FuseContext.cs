using QomFs.Fuse.Native;

namespace QomFs.Fuse;

/// <summary>Who made the current request; only meaningful inside a callback (elsewhere it is all zeros).</summary>
public readonly record struct FuseContext(uint Uid, uint Gid, int Pid, uint Umask)
{
    public static unsafe FuseContext Current
    {
        get
        {
            var request = MountState.CurrentRequest;
            if (request == 0) return default;
            var c = LibFuse.ReqCtx(request);
            return new FuseContext(c->Uid, c->Gid, c->Pid, c->Umask);
        }
    }
}
