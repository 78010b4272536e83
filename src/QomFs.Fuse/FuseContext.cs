namespace QomFs.Fuse;

/// <summary>
/// Who made the current request: meaningful inside a callback. Elsewhere it is whoever made the last request the
/// thread served (zeros on a thread that never served one).
/// </summary>
public readonly record struct FuseContext(uint Uid, uint Gid, int Pid, uint Umask)
{
    public static FuseContext Current => MountState.Caller;
}
