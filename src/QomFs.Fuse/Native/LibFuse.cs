using System.Runtime.InteropServices;

namespace QomFs.Fuse.Native;

/// <summary>
/// libfuse3.so.3's low-level API, bound by symbol AND version with dlvsym. The headers of 3.14 (built with
/// versioned symbols) map <c>fuse_session_loop_mt</c> to <c>fuse_session_loop_mt@FUSE_3.12</c> (the one taking
/// the opaque config from fuse_loop_cfg_create); plain dlsym could return an older ABI.
/// </summary>
internal static unsafe class LibFuse
{
    const string Library = "libfuse3.so.3";

    internal static readonly delegate* unmanaged<FuseArgs*, FuseLowLevelOps*, nuint, void*, nint> SessionNew;
    internal static readonly delegate* unmanaged<nint, byte*, int> SessionMount;
    internal static readonly delegate* unmanaged<nint, void> SessionUnmount;
    internal static readonly delegate* unmanaged<nint, void> SessionDestroy;
    internal static readonly delegate* unmanaged<nint, void> SessionExit;
    internal static readonly delegate* unmanaged<nint, nint, int> SessionLoopMt;
    internal static readonly delegate* unmanaged<nint> LoopCfgCreate;
    internal static readonly delegate* unmanaged<nint, void> LoopCfgDestroy;
    internal static readonly delegate* unmanaged<nint, uint, void> LoopCfgSetIdleThreads;
    internal static readonly delegate* unmanaged<nint, uint, void> LoopCfgSetMaxThreads;
    internal static readonly delegate* unmanaged<FuseArgs*, void> OptFreeArgs;
    internal static readonly delegate* unmanaged<nint, ulong, long, long, int> NotifyInvalInode;
    internal static readonly delegate* unmanaged<nint, ulong, byte*, nuint, int> NotifyInvalEntry;
    internal static readonly delegate* unmanaged<nint, ulong, long, FuseBufVec*, int, int> NotifyStore;

    internal static readonly delegate* unmanaged<nint, FuseCtx*> ReqCtx;
    internal static readonly delegate* unmanaged<nint, void*> ReqUserData;
    internal static readonly delegate* unmanaged<nint, delegate* unmanaged<nint, void*, void>, void*, void> ReqInterruptFunc;
    internal static readonly delegate* unmanaged<nint, int, int> ReplyErr;
    internal static readonly delegate* unmanaged<nint, void> ReplyNone;
    internal static readonly delegate* unmanaged<nint, FuseEntryParam*, int> ReplyEntry;
    internal static readonly delegate* unmanaged<nint, FuseEntryParam*, FuseFileInfo*, int> ReplyCreate;
    internal static readonly delegate* unmanaged<nint, FuseStat*, double, int> ReplyAttr;
    internal static readonly delegate* unmanaged<nint, byte*, int> ReplyReadLink;
    internal static readonly delegate* unmanaged<nint, FuseFileInfo*, int> ReplyOpen;
    internal static readonly delegate* unmanaged<nint, nuint, int> ReplyWrite;
    internal static readonly delegate* unmanaged<nint, byte*, nuint, int> ReplyBuf;
    internal static readonly delegate* unmanaged<nint, FuseStatVfs*, int> ReplyStatFs;
    internal static readonly delegate* unmanaged<nint, nuint, int> ReplyXAttr;
    internal static readonly delegate* unmanaged<nint, byte*, nuint, byte*, FuseStat*, long, nuint> AddDirEntry;
    internal static readonly delegate* unmanaged<nint, byte*, nuint, byte*, FuseEntryParam*, long, nuint> AddDirEntryPlus;

    static LibFuse()
    {
        var handle = NativeLibrary.Load(Library);
        SessionNew = (delegate* unmanaged<FuseArgs*, FuseLowLevelOps*, nuint, void*, nint>)Symbol(handle, "fuse_session_new");
        SessionMount = (delegate* unmanaged<nint, byte*, int>)Symbol(handle, "fuse_session_mount");
        SessionUnmount = (delegate* unmanaged<nint, void>)Symbol(handle, "fuse_session_unmount");
        SessionDestroy = (delegate* unmanaged<nint, void>)Symbol(handle, "fuse_session_destroy");
        SessionExit = (delegate* unmanaged<nint, void>)Symbol(handle, "fuse_session_exit");
        SessionLoopMt = (delegate* unmanaged<nint, nint, int>)Symbol(handle, "fuse_session_loop_mt", "FUSE_3.12");
        LoopCfgCreate = (delegate* unmanaged<nint>)Symbol(handle, "fuse_loop_cfg_create", "FUSE_3.12");
        LoopCfgDestroy = (delegate* unmanaged<nint, void>)Symbol(handle, "fuse_loop_cfg_destroy", "FUSE_3.12");
        LoopCfgSetIdleThreads = (delegate* unmanaged<nint, uint, void>)Symbol(handle, "fuse_loop_cfg_set_idle_threads", "FUSE_3.12");
        LoopCfgSetMaxThreads = (delegate* unmanaged<nint, uint, void>)Symbol(handle, "fuse_loop_cfg_set_max_threads", "FUSE_3.12");
        OptFreeArgs = (delegate* unmanaged<FuseArgs*, void>)Symbol(handle, "fuse_opt_free_args");
        NotifyInvalInode = (delegate* unmanaged<nint, ulong, long, long, int>)Symbol(handle, "fuse_lowlevel_notify_inval_inode");
        NotifyInvalEntry = (delegate* unmanaged<nint, ulong, byte*, nuint, int>)Symbol(handle, "fuse_lowlevel_notify_inval_entry");
        NotifyStore = (delegate* unmanaged<nint, ulong, long, FuseBufVec*, int, int>)Symbol(handle, "fuse_lowlevel_notify_store");

        ReqCtx = (delegate* unmanaged<nint, FuseCtx*>)Symbol(handle, "fuse_req_ctx");
        ReqUserData = (delegate* unmanaged<nint, void*>)Symbol(handle, "fuse_req_userdata");
        ReqInterruptFunc = (delegate* unmanaged<nint, delegate* unmanaged<nint, void*, void>, void*, void>)Symbol(handle, "fuse_req_interrupt_func");
        ReplyErr = (delegate* unmanaged<nint, int, int>)Symbol(handle, "fuse_reply_err");
        ReplyNone = (delegate* unmanaged<nint, void>)Symbol(handle, "fuse_reply_none");
        ReplyEntry = (delegate* unmanaged<nint, FuseEntryParam*, int>)Symbol(handle, "fuse_reply_entry");
        ReplyCreate = (delegate* unmanaged<nint, FuseEntryParam*, FuseFileInfo*, int>)Symbol(handle, "fuse_reply_create");
        ReplyAttr = (delegate* unmanaged<nint, FuseStat*, double, int>)Symbol(handle, "fuse_reply_attr");
        ReplyReadLink = (delegate* unmanaged<nint, byte*, int>)Symbol(handle, "fuse_reply_readlink");
        ReplyOpen = (delegate* unmanaged<nint, FuseFileInfo*, int>)Symbol(handle, "fuse_reply_open");
        ReplyWrite = (delegate* unmanaged<nint, nuint, int>)Symbol(handle, "fuse_reply_write");
        ReplyBuf = (delegate* unmanaged<nint, byte*, nuint, int>)Symbol(handle, "fuse_reply_buf");
        ReplyStatFs = (delegate* unmanaged<nint, FuseStatVfs*, int>)Symbol(handle, "fuse_reply_statfs");
        ReplyXAttr = (delegate* unmanaged<nint, nuint, int>)Symbol(handle, "fuse_reply_xattr");
        AddDirEntry = (delegate* unmanaged<nint, byte*, nuint, byte*, FuseStat*, long, nuint>)Symbol(handle, "fuse_add_direntry");
        AddDirEntryPlus = (delegate* unmanaged<nint, byte*, nuint, byte*, FuseEntryParam*, long, nuint>)Symbol(handle, "fuse_add_direntry_plus");
    }

    static nint Symbol(nint handle, string name, string version = "FUSE_3.0")
    {
        var address = LibC.DlVSym(handle, name, version);
        if (address == 0) throw new EntryPointNotFoundException($"{Library} has no {name}@{version}; libfuse 3.12 or later is required");
        return address;
    }
}
