using System.Text;
using QomFs.Fuse;
using QomFs.Testing;

namespace QomFs.Fuse.Tests;

/// <summary>What ordinary tools see through a real mount of <see cref="MemoryFileSystem"/>.</summary>
[Category(Needs.Fuse)]
public class FileSystemTests
{
    MemoryFileSystem _fs = null!;
    TestMount _mount = null!;
    readonly List<Exception> _unhandled = [];

    [SetUp]
    public void MountIt()
    {
        _fs = new MemoryFileSystem();
        _mount = TestMount.Start(_fs, new FuseMountOptions
        {
            FsName = "memfs",
            Subtype = "qomfstest",
            EntryTimeout = 30,
            AttrTimeout = 30,
            UnhandledException = e => { lock (_unhandled) _unhandled.Add(e); },
        });
    }

    [TearDown]
    public void UnmountIt() => _mount?.Dispose();

    ProcessResult Sh(string script) =>
        ProcessRunner.Sh($"cd '{_mount.Path}' && {script}", TimeSpan.FromSeconds(15));

    string Ok(string script)
    {
        var r = Sh(script);
        Assert.That(r.ExitCode, Is.Zero, $"{script}: {r.StdErr}");
        return r.StdOut;
    }

    [Test]
    public void MountShowsFsNameAndSubtype()
    {
        var line = File.ReadLines("/proc/mounts").Select(l => l.Split(' ')).Single(f => f[1] == _mount.Path);
        Assert.That((line[0], line[2]), Is.EqualTo(("memfs", "fuse.qomfstest")));
    }

    [Test]
    public void LsListsTheRoot()
    {
        var names = Ok("ls -1A").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(names, Is.EquivalentTo(new[] { "denied", "hello", "link", "names", "plus", "rw", "slow", "tagged", "throws", "whoami" }));
    }

    [Test]
    public void StatReportsModeSizeOwnerAndTime()
    {
        Assert.That(Ok("stat -c '%f %s %u %g %Y' hello").Trim(),
            Is.EqualTo($"81a4 12 {MemoryFileSystem.Uid} {MemoryFileSystem.Gid} {MemoryFileSystem.Time.ToUnixTimeSeconds()}"));
        Assert.That(Ok("stat -c '%F %a' rw").Trim(), Is.EqualTo("directory 755"));
        Assert.That(Ok("stat -c '%F' link").Trim(), Is.EqualTo("symbolic link"));
    }

    [Test]
    public void CatReadsContent() => Assert.That(Ok("cat hello"), Is.EqualTo("hello world\n"));

    [Test]
    public void ReadlinkGivesTheTargetAndCatFollowsIt()
    {
        Assert.That(Ok("readlink link").Trim(), Is.EqualTo("hello"));
        Assert.That(Ok("cat link"), Is.EqualTo("hello world\n"));
    }

    [Test]
    public void EchoPrintfAndTeeWrite()
    {
        Ok("echo one > rw/new");
        Assert.That(_fs.Content("/rw/new"), Is.EqualTo("one\n"));
        Ok("printf 'two\\n' >> rw/new");
        Assert.That(Ok("cat rw/new"), Is.EqualTo("one\ntwo\n"));
        Ok("echo three | tee rw/new > /dev/null");
        Assert.That(_fs.Content("/rw/new"), Is.EqualTo("three\n"), "tee truncates before writing");
        Ok("touch rw/new");
    }

    [Test]
    public void CreatingWhereTheFileSystemRefusesGivesItsErrno()
    {
        var r = Sh("echo x > not-here");
        Assert.That((r.ExitCode, r.StdErr), Is.Not.EqualTo((0, "")));
        Assert.That(r.StdErr, Does.Contain("Permission denied"));
    }

    [Test]
    public void XattrsFollowGetxattrSizeRules()
    {
        Require.Tool("getfattr", "reading extended attributes");
        Assert.That(Ok("getfattr --only-values -n user.color tagged"), Is.EqualTo("blue"));
        Assert.That(Ok("getfattr -d tagged"), Does.Contain("user.color=\"blue\"").And.Contain("user.shape=\"round\""));
        var missing = Sh("getfattr -n user.missing tagged");
        Assert.That(missing.StdErr, Does.Contain("No such attribute"));
    }

    [Test]
    public void XattrBuffersAreSizedExactly()
    {
        // Direct syscalls: size query, too-small buffer, exact buffer.
        var path = _mount["tagged"];
        Assert.That(XAttr.Get(path, "user.shape", 0), Is.EqualTo((5, "")));
        Assert.That(XAttr.Get(path, "user.shape", 2), Is.EqualTo((-Errno.ERANGE, "")));
        Assert.That(XAttr.Get(path, "user.shape", 5), Is.EqualTo((5, "round")));
        Assert.That(XAttr.List(path), Is.EqualTo(new[] { "user.color", "user.shape" }));
    }

    [Test]
    public void StatFsReportsTheFileSystemNumbers()
    {
        Assert.That(Ok("stat -f -c '%S %b %f %a %c %d %l' .").Trim(), Is.EqualTo("4096 1000 400 300 50 7 200"));
        Assert.That(Ok($"df -P '{_mount.Path}' | tail -1"), Does.StartWith("memfs"));
    }

    [Test]
    public void InvalidateMakesTheKernelAskForAttributesAgain()
    {
        Assert.That(Ok("stat -c %s hello"), Is.EqualTo("12\n"));
        _fs.SetContent("/hello", "hello again, world\n");
        Assert.That(Ok("stat -c %s hello"), Is.EqualTo("12\n"), "the kernel keeps attributes for their timeout");
        Assert.That(_mount.Mount.Invalidate("/hello", attributesOnly: true), Is.True);
        Assert.That(Ok("stat -c %s hello"), Is.EqualTo("19\n"));
        Assert.That(_mount.Mount.Invalidate("/not-there"), Is.False, "nothing cached, nothing to say");
    }

    [Test]
    public void InvalidateEntryMakesTheKernelLookTheNameUpAgain()
    {
        Assert.That(Ok("stat -c %s hello"), Is.EqualTo("12\n"));
        _fs.Remove("/hello");
        Assert.That(Sh("stat hello").ExitCode, Is.Zero, "the kernel keeps the name for its timeout");
        Assert.That(_mount.Mount.InvalidateEntry("/", "hello"), Is.True);
        Assert.That(Sh("stat hello").StdErr, Does.Contain("No such file or directory"));
    }

    [Test]
    public void ReadDirPlusDeliversAttributesSoLsNeedsNoLookups()
    {
        var listing = Ok("ls -l plus");
        Assert.That(listing, Does.Contain(" 19 ").And.Contain("f19"));
        Assert.That(listing.Split('\n').Count(l => l.StartsWith("-rw-r--r--")), Is.EqualTo(20));
        Assert.That(_fs.ReadDirCalls.Where(c => c.Path == "/plus").Select(c => c.Flags), Does.Contain(FuseReadDirFlags.Plus),
            "the kernel asks for READDIRPLUS on the first listing");
        var lookups = _fs.GetAttrCalls.Where(c => c.Key.StartsWith("/plus/")).Sum(c => c.Value);
        Assert.That(lookups, Is.Zero, "attributes came with the directory entries");
    }

    [Test]
    public void EntriesWithoutAttributesAreLookedUp()
    {
        Assert.That(Ok("ls -l names").Split('\n').Count(l => l.StartsWith("-rw-r--r--")), Is.EqualTo(20));
        Assert.That(_fs.GetAttrCalls.Where(c => c.Key.StartsWith("/names/")).Sum(c => c.Value), Is.GreaterThanOrEqualTo(20));
    }

    [Test]
    public void LongDirectoriesArriveInSeveralBuffersWithoutLossOrRepeats()
    {
        var fs = new BigDirectory(3000);
        using var mount = TestMount.Start(fs);
        var names = ProcessRunner.Sh($"ls -1 -f '{mount.Path}'").StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(names.Where(n => n != "." && n != "..").Order(), Is.EqualTo(Enumerable.Range(0, 3000).Select(BigDirectory.Name).Order()));
        Assert.That(fs.Calls, Is.GreaterThan(1), "the listing needed more than one reply buffer");
    }

    [Test]
    public void ErrnoFromACallbackReachesTheShell()
    {
        var r = Sh("cat denied");
        Assert.That(r.ExitCode, Is.Not.Zero);
        Assert.That(r.StdErr, Does.Contain("Permission denied"));
    }

    [Test]
    public void AnExceptionBecomesEioAndTheMountKeepsWorking()
    {
        var r = Sh("cat throws");
        Assert.That(r.ExitCode, Is.Not.Zero);
        Assert.That(r.StdErr, Does.Contain("Input/output error"));
        Assert.That(Ok("cat hello"), Is.EqualTo("hello world\n"));
        lock (_unhandled) Assert.That(_unhandled.Select(e => e.Message), Does.Contain("a bug in the file system"));
    }

    [Test]
    public void CallerContextIsTheReadingProcess()
    {
        var lines = Ok("echo $$; exec cat whoami").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[1], Is.EqualTo($"0 {lines[0]}"), "uid 0 (we are root) and the pid of cat");
    }

    [Test]
    public void ManyParallelReadersAreServedConcurrently()
    {
        var readers = Enumerable.Range(0, 16)
            .Select(_ => Task.Run(() => File.ReadAllText(_mount["slow"])))
            .ToArray();
        Assert.That(Task.WaitAll(readers, TimeSpan.FromSeconds(20)), Is.True, "readers finished");
        Assert.That(readers.Select(t => t.Result), Is.All.EqualTo("slow but sure\n"));
        Assert.That(_fs.SlowMaxConcurrency, Is.GreaterThanOrEqualTo(2), "reads ran on several loop threads at once");
    }

    /// <summary>A directory of n files, to force READDIR replies over several buffers.</summary>
    [TestCase(false)]
    [TestCase(true)]
    public void AttributesComeWithEveryBatchWhenAsked(bool everyBatch)
    {
        var fs = new BigDirectory(3000);
        using var mount = TestMount.Start(fs, new FuseMountOptions { EntryTimeout = 60, AttrTimeout = 60, AttributesWithEveryBatch = everyBatch });
        // A plain listing looks nothing up between batches: by default only its first batch brings attributes.
        var r = ProcessRunner.Sh($"cd '{mount.Path}' && ls -1 -f | wc -l && stat -c %s -- entry-* | wc -l", TimeSpan.FromSeconds(60));
        Assert.That(r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "3000", "3000" }), r.StdErr);
        Assert.That(fs.Calls, Is.GreaterThan(2), "the listing needed more than one reply buffer");
        if (everyBatch)
        {
            Assert.That(fs.PlainBatches, Is.Zero, "every batch was READDIRPLUS");
            Assert.That(fs.EntryLookups, Is.Zero, "stat found every entry's attributes in the kernel");
        }
        else
        {
            Assert.That(fs.PlainBatches, Is.Positive, "the kernel switched to plain READDIR");
            Assert.That(fs.EntryLookups, Is.GreaterThan(1000), "entries past the first batch were looked up one by one");
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public void WithPosixAclsTheKernelAsksForAnAclOnce(bool posixAcls)
    {
        var fs = new MemoryFileSystem();
        // The kernel keeps ACLs as long as the attributes it has (a refresh drops them).
        using var mount = TestMount.Start(fs, new FuseMountOptions { DefaultPermissions = true, PosixAcls = posixAcls, EntryTimeout = 60, AttrTimeout = 60 });
        for (var i = 0; i < 3; i++)
            Assert.That(XAttr.Get(mount["hello"], "system.posix_acl_access", 64).Result, Is.EqualTo(-Errno.ENODATA));
        // With them the kernel keeps the answer; without, it asks each time. (Not so for the root directory, whose
        // node exists before the kernel knows: path walks may ask for its ACL every time.)
        Assert.That(fs.FileAclQueries, Is.EqualTo(posixAcls ? 1 : 3));
        Assert.That(File.ReadAllText(mount["hello"]), Is.EqualTo("hello world\n"), "mode bits still let the owner read");
    }

    [Test]
    public void NodesTheKernelForgetsLeaveTheTable()
    {
        var names = Enumerable.Range(0, 20).Select(i => $"f{i:00}").ToArray();
        Assert.That(Ok("stat -c %s " + string.Join(' ', names.Select(n => "plus/" + n))).Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(20));
        var held = _mount.Mount.Nodes.Count;
        Assert.That(held, Is.GreaterThan(20));
        foreach (var n in names) Assert.That(_mount.Mount.InvalidateEntry("/plus", n), Is.True);
        Wait.Until(() => _mount.Mount.Nodes.Count <= held - 20, TimeSpan.FromSeconds(5), "the kernel to forget the 20 files");
    }

    [Test]
    public void OpenDirAnsweringEnosysLetsTheKernelCacheListings()
    {
        var fs = new CachedDirectory();
        using var mount = TestMount.Start(fs, new FuseMountOptions { EntryTimeout = 60, AttrTimeout = 60 });
        string Ls() => ProcessRunner.Sh($"ls -1 '{mount.Path}'").StdOut;

        Assert.That(Ls(), Is.EqualTo("a\nb\n"));
        var reads = fs.ReadDirCalls;
        Assert.That(Ls(), Is.EqualTo("a\nb\n"));
        Assert.That(fs.ReadDirCalls, Is.EqualTo(reads), "the second listing came from the kernel's cache");
        Assert.That(fs.OpenDirCalls, Is.EqualTo(1), "after ENOSYS the kernel sent no more OPENDIR");

        fs.Change("a", "b", "c");
        Assert.That(Ls(), Is.EqualTo("a\nb\n"), "the cached listing holds while the attributes are valid");
        Assert.That(mount.Mount.Invalidate("/", attributesOnly: true), Is.True);
        Assert.That(Ls(), Is.EqualTo("a\nb\nc\n"), "a new modification time makes the kernel read the directory again");

        fs.Change("d");
        Assert.That(mount.Mount.Invalidate("/"), Is.True);
        Assert.That(Ls(), Is.EqualTo("d\n"), "invalidating the contents drops the cached listing");
        Assert.That(fs.OpenDirCalls, Is.EqualTo(1));
    }

    [Test]
    public void VolatileAttributesAreAskedForAtEveryStatWhateverTheAttributeTimeout()
    {
        var fs = new GrowingFile();
        using var mount = TestMount.Start(fs, new FuseMountOptions { EntryTimeout = 60, AttrTimeout = 60 });
        long Size(string name) => new FileInfo(mount[name]).Length;

        var first = Size("grows");
        Assert.That((Size("grows"), Size("grows")), Is.EqualTo((first + 1, first + 2)), "each stat reached the file system");
        var still = Size("still");
        Assert.That((Size("still"), Size("still")), Is.EqualTo((still, still)), "kept for the mount's 60 s");
    }

    /// <summary>"grows" grows at each GETATTR and says its attributes are volatile; "still" grows too, but does not say so.</summary>
    sealed class GrowingFile : IFuseFileSystem
    {
        int _calls;

        public int GetAttr(ReadOnlySpan<byte> path, ref FuseStat stat, FuseFileInfoRef fi)
        {
            if (path.SequenceEqual("/"u8)) stat.Mode = FuseStat.S_IFDIR | 0x1ED;
            else if (path.SequenceEqual("/grows"u8) || path.SequenceEqual("/still"u8))
            {
                stat.Mode = FuseStat.S_IFREG | 0x124;
                stat.Size = Interlocked.Increment(ref _calls);
            }
            else return -Errno.ENOENT;
            return 0;
        }

        public bool HasVolatileAttributes(ReadOnlySpan<byte> path) => path.SequenceEqual("/grows"u8);

        public int ReadDir(ReadOnlySpan<byte> path, ref FuseDirectoryFiller filler, ulong offset, FuseReadDirFlags flags, FuseFileInfoRef fi) =>
            -Errno.ENOTDIR;
    }

    /// <summary>A root directory whose listing the kernel may cache; each change shows a new modification time.</summary>
    sealed class CachedDirectory : IFuseFileSystem
    {
        volatile string[] _names = ["a", "b"];
        int _generation, _openDirCalls, _readDirCalls;
        public int OpenDirCalls => Volatile.Read(ref _openDirCalls);
        public int ReadDirCalls => Volatile.Read(ref _readDirCalls);

        public void Change(params string[] names)
        {
            _names = names;
            Interlocked.Increment(ref _generation);
        }

        public int GetAttr(ReadOnlySpan<byte> path, ref FuseStat stat, FuseFileInfoRef fi)
        {
            var root = path.SequenceEqual("/"u8);
            if (!root && !_names.Contains(FusePath.GetString(path)[1..])) return -Errno.ENOENT;
            stat.Mode = root ? FuseStat.S_IFDIR | 0x1ED : FuseStat.S_IFREG | 0x1A4;
            stat.ModificationTime = new FuseTimespec { Seconds = 1_000_000 + Volatile.Read(ref _generation) };
            return 0;
        }

        public int OpenDir(ReadOnlySpan<byte> path, ref FuseFileInfo fi)
        {
            Interlocked.Increment(ref _openDirCalls);
            return -Errno.ENOSYS;
        }

        public int ReadDir(ReadOnlySpan<byte> path, ref FuseDirectoryFiller filler, ulong offset, FuseReadDirFlags flags, FuseFileInfoRef fi)
        {
            Interlocked.Increment(ref _readDirCalls);
            var stat = new FuseStat { Mode = FuseStat.S_IFREG | 0x1A4 };
            foreach (var name in _names) if (!filler.Add(name, in stat)) break;
            return 0;
        }
    }

    sealed class BigDirectory(int count) : IFuseFileSystem
    {
        int _calls, _plainBatches, _entryLookups;
        public int Calls => _calls;
        public int PlainBatches => _plainBatches;
        public int EntryLookups => _entryLookups;
        public static string Name(int i) => $"entry-with-a-longish-name-{i:00000}";

        public int GetAttr(ReadOnlySpan<byte> path, ref FuseStat stat, FuseFileInfoRef fi)
        {
            var root = path.SequenceEqual("/"u8);
            if (!root) Interlocked.Increment(ref _entryLookups);
            stat.Mode = root ? FuseStat.S_IFDIR | 0x1ED : FuseStat.S_IFREG | 0x1A4;
            return 0;
        }

        public int ReadDir(ReadOnlySpan<byte> path, ref FuseDirectoryFiller filler, ulong offset, FuseReadDirFlags flags, FuseFileInfoRef fi)
        {
            Interlocked.Increment(ref _calls);
            if (!flags.HasFlag(FuseReadDirFlags.Plus)) Interlocked.Increment(ref _plainBatches);
            var stat = new FuseStat { Mode = FuseStat.S_IFREG | 0x1A4 };
            for (var i = 0; i < count && filler.HasRoom; i++) filler.Add(Encoding.UTF8.GetBytes(Name(i)), in stat);
            return 0;
        }
    }
}
