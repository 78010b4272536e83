using System.Diagnostics;
using System.Runtime.InteropServices;
using QomFs.Fuse;
using QomFs.Testing;

namespace QomFs.Fuse.Tests;

/// <summary>Mounting, exiting, signals, external unmounts and dead mounts: nothing may be left mounted or hung.</summary>
[Category(Needs.Fuse)]
public class LifecycleTests
{
    static readonly TimeSpan Prompt = TimeSpan.FromSeconds(3);
    readonly List<string> _directories = [];

    /// <summary>A unique directory for a test that mounts without <see cref="TestMount"/>; unmounted and removed in teardown.</summary>
    string NewDirectory(string prefix)
    {
        TestMount.RequireFuse();
        var dir = TempPaths.NewDirectory(prefix);
        _directories.Add(dir);
        return dir;
    }

    [TearDown]
    public void CleanUp()
    {
        foreach (var dir in _directories)
        {
            Mounts.Unmount(dir);
            try { Directory.Delete(dir); } catch (IOException) { }
        }
        _directories.Clear();
    }

    static void AssertServes(string mountPoint) =>
        Assert.That(ProcessRunner.Run("cat", [Path.Combine(mountPoint, "hello")], TimeSpan.FromSeconds(10)).StdOut, Is.EqualTo("hello world\n"));

    [Test]
    public void ExitEndsRunPromptlyAndUnmounts()
    {
        var fs = new MemoryFileSystem();
        using var m = TestMount.Start(fs);
        AssertServes(m.Path);
        var clock = Stopwatch.StartNew();
        m.Mount.Exit();
        Assert.That(m.WaitForRun(Prompt), Is.True, "Run returned");
        Assert.That(clock.Elapsed, Is.LessThan(Prompt));
        Assert.That(Mounts.IsMounted(m.Path), Is.False, "no mount left in /proc/mounts");
        Assert.That(m.RunError, Is.Null);
        Assert.That(fs.Destroyed, Is.True, "Destroy was called after the loop");
    }

    [Test]
    public void ExitEndsRunEvenWhileTheMountIsBusy()
    {
        using var m = TestMount.Start(new MemoryFileSystem());
        AssertServes(m.Path);
        using var busy = Process.Start(new ProcessStartInfo("sleep", "60") { WorkingDirectory = m.Path })!;
        try
        {
            m.Mount.Exit();
            Assert.That(m.WaitForRun(Prompt), Is.True, "Run returned although a process sits inside the mount");
            Assert.That(Mounts.IsMounted(m.Path), Is.False);
        }
        finally
        {
            busy.Kill();
            busy.WaitForExit(10_000);
        }
    }

    [Test]
    public void ExitBeforeRunMakesRunReturnAtOnce()
    {
        var fs = new MemoryFileSystem();
        using var m = TestMount.Start(fs, run: false);
        Assert.That(Mounts.IsMounted(m.Path), Is.True, "mounted before Run");
        m.Mount.Exit();
        m.StartRunning();
        Assert.That(m.WaitForRun(Prompt), Is.True);
        Assert.That(Mounts.IsMounted(m.Path), Is.False);
    }

    [Test]
    public void DisposeWithoutRunUnmounts()
    {
        using var m = TestMount.Start(new MemoryFileSystem(), run: false);
        m.Mount.Dispose();
        Assert.That(Mounts.IsMounted(m.Path), Is.False);
        Assert.That(() => m.Mount.Run(), Throws.InvalidOperationException);
    }

    [Test]
    public void ExitFromInsideACallbackWorks()
    {
        var fs = new ExitingFileSystem();
        using var m = TestMount.Start(fs);
        fs.Mount = m.Mount;
        ProcessRunner.Run("cat", [Path.Combine(m.Path, "exit")], TimeSpan.FromSeconds(10));
        Assert.That(m.WaitForRun(Prompt), Is.True);
        Assert.That(Mounts.IsMounted(m.Path), Is.False);
    }

    [Test]
    public void ExternalUnmountEndsRun()
    {
        var fs = new MemoryFileSystem();
        using var m = TestMount.Start(fs);
        AssertServes(m.Path);
        FuseMountPoint.Unmount(m.Path, lazy: false);
        Assert.That(m.WaitForRun(Prompt), Is.True, "Run returned after umount");
        Assert.That((Mounts.IsMounted(m.Path), m.RunError, fs.Destroyed), Is.EqualTo((false, (Exception?)null, true)));
    }

    [Test]
    public void UnmountOfSomethingNotMountedThrows()
    {
        var dir = NewDirectory("plain");
        Assert.That(() => FuseMountPoint.Unmount(dir, lazy: true), Throws.InstanceOf<IOException>());
    }

    [Test]
    public void SignalHandlerCancelsTerminationAndExits()
    {
        using var m = TestMount.Start(new MemoryFileSystem());
        m.Mount.ExitOnSignals();
        var context = new PosixSignalContext(PosixSignal.SIGTERM);
        m.Mount.OnSignal(context);
        Assert.That(context.Cancel, Is.True, "the runtime must not terminate the process under the mount");
        Assert.That(m.WaitForRun(Prompt), Is.True);
        Assert.That(Mounts.IsMounted(m.Path), Is.False);
    }

    [TestCase("TERM")]
    [TestCase("INT")]
    public void ARealSignalToADaemonUnmountsCleanly(string signal)
    {
        var dir = NewDirectory("child");
        using var child = ChildDaemon.Start(dir);
        AssertServes(dir);
        child.Signal(signal);
        Assert.That(child.Process.WaitForExit(10_000), Is.True, "the daemon exited");
        Assert.That(child.Process.ExitCode, Is.Zero, child.Process.StandardError.ReadToEnd());
        Assert.That(child.Process.StandardOutput.ReadToEnd(), Does.Contain("clean exit"));
        Assert.That(Mounts.IsMounted(dir), Is.False);
    }

    [Test]
    public void AKilledDaemonLeavesADeadMountThatIsDetectedAndCleared()
    {
        var dir = NewDirectory("dead");
        using (var child = ChildDaemon.Start(dir))
        {
            AssertServes(dir);
            Assert.That(FuseMountPoint.IsStale(dir), Is.False, "a live mount is not stale");
            child.Signal("KILL");
            Assert.That(child.Process.WaitForExit(10_000), Is.True);
        }
        Assert.That(Mounts.IsMounted(dir), Is.True, "SIGKILL leaves the mount behind");
        Assert.That(ProcessRunner.Run("stat", [dir]).StdErr, Does.Contain("Transport endpoint is not connected"));
        Assert.That(FuseMountPoint.IsStale(dir), Is.True);

        Assert.That(FuseMountPoint.ClearStale(dir), Is.True);
        Assert.That(Mounts.IsMounted(dir), Is.False);
        Assert.That(FuseMountPoint.ClearStale(dir), Is.False, "nothing left to clear");
    }

    [Test]
    public void MountingOverADeadMountClearsItFirst()
    {
        var dir = NewDirectory("remount");
        using (var child = ChildDaemon.Start(dir))
        {
            child.Signal("KILL");
            Assert.That(child.Process.WaitForExit(10_000), Is.True);
        }
        Assert.That(FuseMountPoint.IsStale(dir), Is.True);

        using var mount = FuseMount.Mount(dir, new MemoryFileSystem());
        var runner = new Thread(mount.Run) { IsBackground = true };
        runner.Start();
        AssertServes(dir);
        Assert.That(File.ReadLines("/proc/mounts").Count(l => l.Split(' ')[1] == dir), Is.EqualTo(1), "the dead mount is gone, not stacked");
        mount.Exit();
        Assert.That(runner.Join(Prompt), Is.True);
    }

    [Test]
    public void MaxThreadsLimitsConcurrency()
    {
        var fs = new MemoryFileSystem { SlowTarget = 2, SlowPatience = TimeSpan.FromMilliseconds(300) };
        using var m = TestMount.Start(fs, new FuseMountOptions { MaxThreads = 1 });
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(() => File.ReadAllText(m["slow"]))).ToArray();
        Assert.That(Task.WaitAll(readers, TimeSpan.FromSeconds(20)), Is.True);
        Assert.That(fs.SlowMaxConcurrency, Is.EqualTo(1));
    }

    [Test]
    public void InterfaceDefaultsGiveTheErrnosOfTheVfs()
    {
        using var m = TestMount.Start(new MinimalFileSystem());
        string Err(string script) => ProcessRunner.Sh($"cd '{m.Path}' && {script}").StdErr;
        Assert.That(Err("touch new"), Does.Contain("Permission denied"), "Create: EACCES");
        Assert.That(Err("mkdir d"), Does.Contain("Operation not permitted"), "Mkdir: EPERM");
        Assert.That(Err("rm file"), Does.Contain("Operation not permitted"), "Unlink: EPERM");
        Assert.That(Err("getfattr -n user.x file"), Does.Contain("Operation not supported"), "GetXAttr: ENOSYS -> EOPNOTSUPP");
        Assert.That(Err("cat file"), Does.Contain("Invalid argument"), "Read: EINVAL");
        Assert.That(ProcessRunner.Sh($"stat -f -c '%l' '{m.Path}'").StdOut.Trim(), Is.EqualTo("255"), "StatFs default");
    }

    sealed class ExitingFileSystem : IFuseFileSystem
    {
        public FuseMount? Mount;

        public int GetAttr(ReadOnlySpan<byte> path, ref FuseStat stat, FuseFileInfoRef fi)
        {
            stat.Mode = path.SequenceEqual("/"u8) ? FuseStat.S_IFDIR | 0x1ED : FuseStat.S_IFREG | 0x1A4;
            return 0;
        }

        public int ReadDir(ReadOnlySpan<byte> path, ref FuseDirectoryFiller filler, ulong offset, FuseReadDirFlags flags, FuseFileInfoRef fi) => 0;

        public int Open(ReadOnlySpan<byte> path, ref FuseFileInfo fi)
        {
            Mount?.Exit();
            return 0;
        }
    }
}
