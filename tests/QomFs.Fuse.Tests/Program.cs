using QomFs.Fuse;

namespace QomFs.Fuse.Tests;

/// <summary>
/// The test assembly is also a tiny FUSE daemon, so that tests can run a mount in a process of its own and then
/// signal or kill it: <c>QomFs.Fuse.Tests serve &lt;mountpoint&gt;</c>.
/// </summary>
static class Program
{
    public static int Main(string[] args)
    {
        if (args is not ["serve", var mountPoint])
        {
            Console.Error.WriteLine("usage: QomFs.Fuse.Tests serve <mountpoint>");
            return 2;
        }
        using var mount = FuseMount.Mount(mountPoint, new MemoryFileSystem(),
            new FuseMountOptions { FsName = "child", Subtype = "qomfstest" }).ExitOnSignals();
        Console.WriteLine("ready");
        mount.Run();
        Console.WriteLine("clean exit");
        return 0;
    }
}
