using System.Runtime.InteropServices;

namespace QomFs.Fuse.Native;

/// <summary>
/// libfuse3.so.3 functions, bound by symbol AND version with dlvsym. The headers of 3.14 (built with versioned
/// symbols) map <c>fuse_new</c> to <c>fuse_new@FUSE_3.1</c> and <c>fuse_loop_mt</c> to <c>fuse_loop_mt@FUSE_3.12</c>
/// (the one taking the opaque config from fuse_loop_cfg_create); plain dlsym could return an older ABI.
/// </summary>
internal static unsafe class LibFuse
{
    const string Library = "libfuse3.so.3";

    internal static readonly delegate* unmanaged<FuseArgs*, FuseOperationsNative*, nuint, void*, nint> New;
    internal static readonly delegate* unmanaged<nint, byte*, int> Mount;
    internal static readonly delegate* unmanaged<nint, void> Unmount;
    internal static readonly delegate* unmanaged<nint, void> Destroy;
    internal static readonly delegate* unmanaged<nint, void> Exit;
    internal static readonly delegate* unmanaged<nint, nint, int> LoopMt;
    internal static readonly delegate* unmanaged<nint> LoopCfgCreate;
    internal static readonly delegate* unmanaged<nint, void> LoopCfgDestroy;
    internal static readonly delegate* unmanaged<nint, uint, void> LoopCfgSetIdleThreads;
    internal static readonly delegate* unmanaged<nint, uint, void> LoopCfgSetMaxThreads;
    internal static readonly delegate* unmanaged<FuseContextNative*> GetContext;
    internal static readonly delegate* unmanaged<FuseArgs*, void> OptFreeArgs;
    internal static readonly delegate* unmanaged<nint, nint> GetSession;
    internal static readonly delegate* unmanaged<nint, ulong, long, long, int> NotifyInvalInode;
    internal static readonly delegate* unmanaged<nint, ulong, byte*, nuint, int> NotifyInvalEntry;

    static LibFuse()
    {
        var handle = NativeLibrary.Load(Library);
        New = (delegate* unmanaged<FuseArgs*, FuseOperationsNative*, nuint, void*, nint>)Symbol(handle, "fuse_new", "FUSE_3.1");
        Mount = (delegate* unmanaged<nint, byte*, int>)Symbol(handle, "fuse_mount", "FUSE_3.0");
        Unmount = (delegate* unmanaged<nint, void>)Symbol(handle, "fuse_unmount", "FUSE_3.0");
        Destroy = (delegate* unmanaged<nint, void>)Symbol(handle, "fuse_destroy", "FUSE_3.0");
        Exit = (delegate* unmanaged<nint, void>)Symbol(handle, "fuse_exit", "FUSE_3.0");
        LoopMt = (delegate* unmanaged<nint, nint, int>)Symbol(handle, "fuse_loop_mt", "FUSE_3.12");
        LoopCfgCreate = (delegate* unmanaged<nint>)Symbol(handle, "fuse_loop_cfg_create", "FUSE_3.12");
        LoopCfgDestroy = (delegate* unmanaged<nint, void>)Symbol(handle, "fuse_loop_cfg_destroy", "FUSE_3.12");
        LoopCfgSetIdleThreads = (delegate* unmanaged<nint, uint, void>)Symbol(handle, "fuse_loop_cfg_set_idle_threads", "FUSE_3.12");
        LoopCfgSetMaxThreads = (delegate* unmanaged<nint, uint, void>)Symbol(handle, "fuse_loop_cfg_set_max_threads", "FUSE_3.12");
        GetContext = (delegate* unmanaged<FuseContextNative*>)Symbol(handle, "fuse_get_context", "FUSE_3.0");
        OptFreeArgs = (delegate* unmanaged<FuseArgs*, void>)Symbol(handle, "fuse_opt_free_args", "FUSE_3.0");
        GetSession = (delegate* unmanaged<nint, nint>)Symbol(handle, "fuse_get_session", "FUSE_3.0");
        NotifyInvalInode = (delegate* unmanaged<nint, ulong, long, long, int>)Symbol(handle, "fuse_lowlevel_notify_inval_inode", "FUSE_3.0");
        NotifyInvalEntry = (delegate* unmanaged<nint, ulong, byte*, nuint, int>)Symbol(handle, "fuse_lowlevel_notify_inval_entry", "FUSE_3.0");
    }

    static nint Symbol(nint handle, string name, string version)
    {
        var address = LibC.DlVSym(handle, name, version);
        if (address == 0) throw new EntryPointNotFoundException($"{Library} has no {name}@{version}; libfuse 3.12 or later is required");
        return address;
    }
}
