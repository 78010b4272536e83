using System.Runtime.InteropServices;
using System.Text;
using QomFs.Fuse.Native;

namespace QomFs.Fuse;

/// <summary>
/// One mounted file system: <see cref="Mount"/> mounts it, <see cref="Run"/> serves it on libfuse's
/// multi-threaded loop until <see cref="Exit"/> (or an external unmount), then unmounts and destroys it.
/// Served through libfuse's low-level API (see <see cref="FuseOperations"/>).
/// </summary>
/// <remarks>
/// Why Exit needs more than fuse_session_exit: it only sets a flag. libfuse's workers sit in read(/dev/fuse) and
/// notice the flag only after their next request; a C daemon gets EINTR from its own signal handlers, but .NET
/// handles signals on a thread of its own, so no read is ever interrupted. Exit therefore also sends one request
/// of its own (an uncached stat of the mount root, from a helper thread): the worker that answers it sees the flag
/// and ends the loop, libfuse cancels the other workers, and Run unmounts with fuse_session_unmount, which closes the
/// /dev/fuse descriptor first (ending the connection even if the mount is busy) and then detaches the mount
/// lazily. The descriptor is closed only after all workers have stopped, so none can use a reused number.
/// </remarks>
public sealed unsafe class FuseMount : IFuseNotifier, IDisposable
{
    enum State { Mounted, Running, Ending, Ended }

    readonly object _lock = new();
    readonly ManualResetEventSlim _ended = new();
    readonly FuseMountOptions _options;
    readonly nint _session;
    readonly MountState _mountState;
    GCHandle _state;
    State _current;
    bool _exitRequested;
    // Stores in the kernel now (see Store); the loop ends only once there are none.
    int _storing;
    PosixSignalRegistration[]? _signals;

    FuseMount(string mountPoint, nint session, GCHandle state, FuseMountOptions options)
    {
        MountPoint = mountPoint;
        _session = session;
        _state = state;
        _mountState = (MountState)state.Target!;
        _options = options;
    }

    /// <summary>The absolute mount point.</summary>
    public string MountPoint { get; }

    /// <summary>The nodes the kernel holds now.</summary>
    internal NodeTable Nodes => _mountState.Nodes;

    /// <summary>
    /// Mounts <paramref name="fileSystem"/> at the existing directory <paramref name="mountPoint"/>, first clearing
    /// a dead FUSE mount left there by a killed daemon. Nothing is served until <see cref="Run"/>.
    /// </summary>
    /// <exception cref="IOException">libfuse rejected the options or the mount failed (libfuse says why on stderr).</exception>
    public static FuseMount Mount(string mountPoint, IFuseFileSystem fileSystem, FuseMountOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(fileSystem);
        options ??= new FuseMountOptions();
        var full = FuseMountPoint.Full(mountPoint);
        FuseMountPoint.ClearStale(full);
        if (!Directory.Exists(full)) throw new DirectoryNotFoundException($"mount point {full} is not a directory");

        var state = GCHandle.Alloc(new MountState(fileSystem, options));
        nint session = 0;
        try
        {
            session = New(options, state);
            var path = Encoding.UTF8.GetBytes(full + "\0");
            fixed (byte* p = path)
                if (LibFuse.SessionMount(session, p) != 0) throw new IOException($"cannot mount FUSE at {full}");
            return new FuseMount(full, session, state, options);
        }
        catch
        {
            if (session != 0) LibFuse.SessionDestroy(session);
            state.Free();
            throw;
        }
    }

    /// <summary>
    /// Serves requests until <see cref="Exit"/> or an external unmount, then unmounts and calls
    /// <see cref="IFuseFileSystem.Destroy"/>. Blocks; call it once, on a thread of its own if the caller has other work.
    /// </summary>
    /// <exception cref="IOException">The loop failed (the mount is still taken down).</exception>
    public void Run()
    {
        bool exitRequested;
        lock (_lock)
        {
            if (_current != State.Mounted) throw new InvalidOperationException("Run was already called, or the mount was disposed");
            _current = State.Running;
            exitRequested = _exitRequested;
        }

        var result = 0;
        try
        {
            if (!exitRequested) result = Loop();
        }
        finally
        {
            TearDown();
        }
        if (result != 0) throw new IOException($"fuse_session_loop_mt failed ({result})");
    }

    /// <summary>
    /// Ends <see cref="Run"/> promptly and unmounts; requests in flight finish first. Idempotent, callable from any
    /// thread (including a callback or a signal handler); does not wait.
    /// </summary>
    public void Exit()
    {
        lock (_lock)
        {
            if (_exitRequested || _current >= State.Ending) return;
            _exitRequested = true;
            if (_current != State.Running) LibFuse.SessionExit(_session);
            else WakeLoop();
        }
    }

    /// <summary>
    /// Makes SIGINT and SIGTERM call <see cref="Exit"/> instead of terminating the process, so Run returns and the
    /// mount goes away cleanly rather than being left dead. Undone by Dispose.
    /// </summary>
    public FuseMount ExitOnSignals()
    {
        lock (_lock)
        {
            _signals ??=
            [
                PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
                PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
            ];
        }
        return this;
    }

    internal void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        Exit();
    }

    /// <summary>
    /// Exits and waits (up to <see cref="FuseMountOptions.ExitTimeout"/>) for a running loop to end; if it does not
    /// (a callback hangs), detaches the mount anyway so nothing is left in the namespace. Without Run, unmounts directly.
    /// Do not call it from a callback (it would wait for itself); call <see cref="Exit"/> there.
    /// </summary>
    public void Dispose()
    {
        PosixSignalRegistration[]? signals;
        bool tearDownHere;
        lock (_lock)
        {
            signals = _signals;
            _signals = null;
            tearDownHere = _current == State.Mounted;
            if (tearDownHere) _current = State.Ending;
        }
        if (signals is not null)
            foreach (var s in signals) s.Dispose();

        if (tearDownHere)
        {
            TearDown();
            return;
        }
        Exit();
        if (!_ended.Wait(_options.ExitTimeout) && FuseMountPoint.IsMounted(MountPoint))
        {
            try { FuseMountPoint.Unmount(MountPoint, lazy: true); }
            catch (IOException) { /* gone meanwhile */ }
        }
    }

    /// <summary>
    /// Makes the kernel forget what it cached of <paramref name="path"/> (a path inside the file system, "/a/b"):
    /// its attributes, and unless <paramref name="attributesOnly"/> its cached contents too (for a directory, its
    /// cached listing). The next access asks the file system again. With <paramref name="attributesOnly"/> it may be
    /// called from any callback; otherwise not from a callback about the same file, whose page the kernel may hold
    /// locked until the callback returns. Returns false if the kernel holds nothing for the path.
    /// </summary>
    public bool Invalidate(string path, bool attributesOnly = false) =>
        Notify(path, (session, node) => LibFuse.NotifyInvalInode(session, node, attributesOnly ? -1 : 0, 0));

    /// <summary>
    /// Makes the kernel forget the name <paramref name="name"/> in <paramref name="directory"/>, so that the next
    /// lookup of it asks the file system. Not from a callback about that directory. False if the kernel holds nothing.
    /// </summary>
    public bool InvalidateEntry(string directory, string name) => Notify(directory, (session, node) =>
    {
        var bytes = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* p = bytes) return LibFuse.NotifyInvalEntry(session, node, p, (nuint)(bytes.Length - 1));
    });

    /// <summary>
    /// Puts <paramref name="data"/> into the kernel's page cache as the contents of the file at <paramref name="path"/>
    /// from offset 0 (fuse_lowlevel_notify_store), so that reading it needs no READ while its attributes are fresh.
    /// Of use only for data exactly as long as the size the kernel has (kernel 6.18 neither grows the file nor uses
    /// a page that ends before it does). The kernel may wait for a read in flight of the same file,
    /// which a worker answers: call it from a thread of its own, never from a callback. False if the kernel holds no
    /// node for the path, or the mount is ending.
    /// </summary>
    public bool Store(string path, ReadOnlySpan<byte> data)
    {
        ulong node;
        lock (_lock)
        {
            if (_current != State.Running || _exitRequested) return false;
            node = _mountState.Nodes.Find(path);
            if (node == 0) return false;
            _storing++;
        }
        try
        {
            fixed (byte* p = data)
            {
                var vector = new FuseBufVec { Count = 1, Buf = new FuseBuf { Size = (nuint)data.Length, Mem = p } };
                return LibFuse.NotifyStore(_session, node, 0, &vector, 0) == 0;
            }
        }
        finally
        {
            // Outside the lock meanwhile: a callback that invalidates must never wait for a store that waits for it.
            lock (_lock)
                if (--_storing == 0) Monitor.PulseAll(_lock);
        }
    }

    // Under the lock, so that the session cannot be destroyed meanwhile (TearDown takes the lock first).
    bool Notify(string path, Func<nint, ulong, int> send)
    {
        lock (_lock)
        {
            if (_current != State.Running) return false;
            var node = _mountState.Nodes.Find(path);
            return node != 0 && send(_session, node) == 0;
        }
    }

    int Loop()
    {
        var config = LibFuse.LoopCfgCreate();
        if (config == 0) throw new OutOfMemoryException("fuse_loop_cfg_create");
        try
        {
            if (_options.MaxIdleThreads is { } idle) LibFuse.LoopCfgSetIdleThreads(config, (uint)idle);
            if (_options.MaxThreads is { } max) LibFuse.LoopCfgSetMaxThreads(config, (uint)max);
            return LibFuse.SessionLoopMt(_session, config);
        }
        finally
        {
            LibFuse.LoopCfgDestroy(config);
        }
    }

    void TearDown()
    {
        lock (_lock) _current = State.Ending;
        // Reads still waiting for their data are answered on the connection, which is still up.
        _mountState.LateReplies.Signal();
        var replied = _mountState.LateReplies.Wait(_options.ExitTimeout);
        try
        {
            LibFuse.SessionUnmount(_session);
            // A store still in the kernel (it ends with the connection) or a reply later than that would use the
            // session and its state: leave both to the process's exit.
            if (replied && StoresEnded()) LibFuse.SessionDestroy(_session); // calls Destroy of the file system
        }
        finally
        {
            if (replied) _state.Free();
            lock (_lock) _current = State.Ended;
            _ended.Set();
        }
    }

    bool StoresEnded()
    {
        var deadline = Environment.TickCount64 + (long)_options.ExitTimeout.TotalMilliseconds;
        lock (_lock)
        {
            while (_storing > 0 && Environment.TickCount64 < deadline) Monitor.Wait(_lock, 100);
            return _storing == 0;
        }
    }

    /// <summary>
    /// Sends one request so that a worker blocked in read(/dev/fuse) wakes up and sees the exit flag. On its own
    /// thread because the request waits for a worker, which may be the caller itself or not running yet; if the
    /// loop ends another way, closing /dev/fuse fails the request and the thread ends.
    /// </summary>
    void WakeLoop()
    {
        var mountPoint = MountPoint;
        new Thread(() =>
        {
            // A store may wait for a read in flight of the same page, which only a running worker answers.
            StoresEnded();
            // Under the lock and only while running: a loop that ended meanwhile may have destroyed the session.
            lock (_lock)
            {
                if (_current != State.Running) return;
                LibFuse.SessionExit(_session);
            }
            LibC.ForcedStat(mountPoint);
        }) { IsBackground = true, Name = "fuse exit" }.Start();
    }

    static nint New(FuseMountOptions options, GCHandle state)
    {
        var args = new List<string> { options.FsName };
        var mountOptions = MountOptions(options);
        if (mountOptions.Length > 0) args.AddRange(["-o", mountOptions]);

        var argv = (byte**)NativeMemory.AllocZeroed((nuint)(args.Count + 1), (nuint)sizeof(byte*));
        try
        {
            for (var i = 0; i < args.Count; i++) argv[i] = (byte*)Marshal.StringToCoTaskMemUTF8(args[i]);
            var fuseArgs = new FuseArgs { Argc = args.Count, Argv = argv };
            var operations = FuseOperations.Table;
            var session = LibFuse.SessionNew(&fuseArgs, &operations, (nuint)sizeof(FuseLowLevelOps), (void*)GCHandle.ToIntPtr(state));
            LibFuse.OptFreeArgs(&fuseArgs); // frees only the copy fuse_opt_parse may have made
            if (session == 0) throw new IOException($"libfuse rejected the options: {mountOptions}");
            return session;
        }
        finally
        {
            for (var i = 0; i < args.Count; i++) Marshal.FreeCoTaskMem((nint)argv[i]);
            NativeMemory.Free(argv);
        }
    }

    /// <summary>The -o list; fuse_opt splits on commas, so commas and backslashes inside values are escaped.</summary>
    internal static string MountOptions(FuseMountOptions options)
    {
        var list = new List<string> { "fsname=" + Escape(options.FsName) };
        if (options.Subtype is { } subtype) list.Add("subtype=" + Escape(subtype));
        if (options.ReadOnly) list.Add("ro");
        if (options.AllowOther) list.Add("allow_other");
        if (options.DefaultPermissions) list.Add("default_permissions");
        list.AddRange(options.ExtraOptions);
        return string.Join(',', list);
    }

    static string Escape(string value) => value.Replace("\\", "\\\\").Replace(",", "\\,");
}
