using QomFs.Fuse;
using QomFs.Testing;

namespace QomFs.Fuse.Tests;

/// <summary>A real mount at a unique path with Run on its own thread; Dispose always leaves nothing mounted.</summary>
sealed class TestMount : IDisposable
{
    readonly Thread _runner;
    bool _started;

    public string Path { get; }
    public FuseMount Mount { get; }
    public Exception? RunError { get; private set; }

    TestMount(string path, FuseMount mount)
    {
        Path = path;
        Mount = mount;
        _runner = new Thread(() =>
        {
            try { Mount.Run(); }
            catch (Exception e) { RunError = e; }
        }) { IsBackground = true, Name = "fuse run " + path };
    }

    public static void RequireFuse()
    {
        Needs.Check(Needs.Fuse);
        Require.Root("mounting FUSE file systems for real");
        Require.File("/dev/fuse", "the FUSE device");
        Require.Tool("fusermount3", "libfuse's unmount helper");
    }

    public static TestMount Start(IFuseFileSystem fs, FuseMountOptions? options = null, bool run = true)
    {
        RequireFuse();
        var path = TempPaths.NewDirectory("fuse");
        var mount = FuseMount.Mount(path, fs, options ?? new FuseMountOptions { FsName = "memfs", Subtype = "qomfstest" });
        var t = new TestMount(path, mount);
        if (run) t.StartRunning();
        return t;
    }

    public void StartRunning()
    {
        _started = true;
        _runner.Start();
    }

    /// <summary>True if Run returned within the deadline.</summary>
    public bool WaitForRun(TimeSpan deadline) => _runner.Join(deadline);

    public string this[string relative] => System.IO.Path.Combine(Path, relative.TrimStart('/'));

    public void Dispose()
    {
        Mount.Exit();
        if (_started) _runner.Join(TimeSpan.FromSeconds(10));
        Mount.Dispose();
        Mounts.Unmount(Path);
        try { Directory.Delete(Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
