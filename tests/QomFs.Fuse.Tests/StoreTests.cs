using System.Text;
using QomFs.Fuse;
using QomFs.Testing;

namespace QomFs.Fuse.Tests;

/// <summary>
/// <see cref="FuseMount.Store"/> (fuse_lowlevel_notify_store) on a real mount: what it puts into the page cache is
/// what read(2) returns, without a READ.
/// </summary>
[Category(Needs.Fuse)]
public class StoreTests
{
    MemoryFileSystem _fs = null!;
    TestMount _mount = null!;

    [SetUp]
    public void MountIt()
    {
        _fs = new MemoryFileSystem();
        _mount = TestMount.Start(_fs, new FuseMountOptions
        {
            FsName = "memfs", Subtype = "qomfstest", EntryTimeout = 30, AttrTimeout = 30, KernelCache = true,
        });
    }

    [TearDown]
    public void UnmountIt() => _mount?.Dispose();

    [Test]
    public void AStoredFileReadsTheStoredDataWithoutARead()
    {
        Assert.That(new FileInfo(_mount["plus/f05"]).Length, Is.EqualTo(5), "the kernel now has the node");
        Assert.That(_mount.Mount.Store("/plus/f05", "yyyyy"u8), Is.True);
        Assert.That(File.ReadAllText(_mount["plus/f05"]), Is.EqualTo("yyyyy"), "the page cache's, not the file system's xxxxx");
        Assert.That(_fs.ReadCalls.ContainsKey("/plus/f05"), Is.False);
    }

    [Test]
    public void AFileTheKernelHasNoNodeForIsNotStored()
    {
        Assert.That(_mount.Mount.Store("/plus/f07", "zzzzzzz"u8), Is.False);
        Assert.That(File.ReadAllText(_mount["plus/f07"]), Is.EqualTo("xxxxxxx"));
        Assert.That(_fs.ReadCalls["/plus/f07"], Is.EqualTo(1));
    }

    [Test]
    public void NothingIsStoredOnceTheMountIsEnding()
    {
        Assert.That(new FileInfo(_mount["plus/f04"]).Length, Is.EqualTo(4));
        _mount.Mount.Exit();
        Assert.That(_mount.WaitForRun(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(_mount.Mount.Store("/plus/f04", Encoding.UTF8.GetBytes("wwww")), Is.False);
    }
}
