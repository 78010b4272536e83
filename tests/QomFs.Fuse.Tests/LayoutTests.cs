using System.Reflection;
using QomFs.Fuse.Native;
using QomFs.Testing;

namespace QomFs.Fuse.Tests;

/// <summary>
/// Compiles a C probe against the installed libfuse3 headers and compares every size, offset, bit and constant
/// the binding hard-codes with what gcc computes. A layout bug here would corrupt libfuse's memory silently.
/// </summary>
public unsafe class LayoutTests
{
    static Dictionary<string, long> _c = null!;

    [OneTimeSetUp]
    public static void CompileProbe()
    {
        var gcc = Require.Tool("gcc", "compiling the layout probe");
        Require.File("/usr/include/fuse3/fuse.h", "libfuse3-dev headers");
        var dir = TempPaths.NewDirectory("probe");
        var exe = Path.Combine(dir, "probe");
        var build = ProcessRunner.Run(gcc, ["-Wall", "-Werror", "-I/usr/include/fuse3", "-o", exe,
            Path.Combine(TestContext.CurrentContext.TestDirectory, "layout_probe.c")], TimeSpan.FromSeconds(30));
        Assert.That(build.ExitCode, Is.Zero, build.StdErr);
        var run = ProcessRunner.Run(exe, [], TimeSpan.FromSeconds(10));
        Assert.That(run.ExitCode, Is.Zero, run.StdErr);
        _c = run.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(l => l[..l.LastIndexOf(' ')], l => long.Parse(l[(l.LastIndexOf(' ') + 1)..]));
        Directory.Delete(dir, recursive: true);
    }

    static void Expect(string name, long actual) =>
        Assert.That(actual, Is.EqualTo(_c[name]), $"{name}: C# says {actual}, gcc says {_c[name]}");

    static long Off(void* field, void* start) => (byte*)field - (byte*)start;

    [Test]
    public void FuseArgsMatches()
    {
        FuseArgs s;
        Expect("sizeof fuse_args", sizeof(FuseArgs));
        Expect("fuse_args.argc", Off(&s.Argc, &s));
        Expect("fuse_args.argv", Off(&s.Argv, &s));
        Expect("fuse_args.allocated", Off(&s.Allocated, &s));
    }

    [Test]
    public void FuseLowLevelOpsMatches()
    {
        FuseLowLevelOps s;
        Expect("sizeof fuse_lowlevel_ops", sizeof(FuseLowLevelOps));
        Expect("fuse_lowlevel_ops.init", Off(&s.Init, &s));
        Expect("fuse_lowlevel_ops.destroy", Off(&s.Destroy, &s));
        Expect("fuse_lowlevel_ops.lookup", Off(&s.Lookup, &s));
        Expect("fuse_lowlevel_ops.forget", Off(&s.Forget, &s));
        Expect("fuse_lowlevel_ops.getattr", Off(&s.GetAttr, &s));
        Expect("fuse_lowlevel_ops.setattr", Off(&s.SetAttr, &s));
        Expect("fuse_lowlevel_ops.readlink", Off(&s.ReadLink, &s));
        Expect("fuse_lowlevel_ops.mknod", Off(&s.Mknod, &s));
        Expect("fuse_lowlevel_ops.mkdir", Off(&s.Mkdir, &s));
        Expect("fuse_lowlevel_ops.unlink", Off(&s.Unlink, &s));
        Expect("fuse_lowlevel_ops.rmdir", Off(&s.Rmdir, &s));
        Expect("fuse_lowlevel_ops.rename", Off(&s.Rename, &s));
        Expect("fuse_lowlevel_ops.open", Off(&s.Open, &s));
        Expect("fuse_lowlevel_ops.read", Off(&s.Read, &s));
        Expect("fuse_lowlevel_ops.write", Off(&s.Write, &s));
        Expect("fuse_lowlevel_ops.flush", Off(&s.Flush, &s));
        Expect("fuse_lowlevel_ops.release", Off(&s.Release, &s));
        Expect("fuse_lowlevel_ops.opendir", Off(&s.OpenDir, &s));
        Expect("fuse_lowlevel_ops.readdir", Off(&s.ReadDir, &s));
        Expect("fuse_lowlevel_ops.releasedir", Off(&s.ReleaseDir, &s));
        Expect("fuse_lowlevel_ops.statfs", Off(&s.StatFs, &s));
        Expect("fuse_lowlevel_ops.getxattr", Off(&s.GetXAttr, &s));
        Expect("fuse_lowlevel_ops.listxattr", Off(&s.ListXAttr, &s));
        Expect("fuse_lowlevel_ops.access", Off(&s.Access, &s));
        Expect("fuse_lowlevel_ops.create", Off(&s.Create, &s));
        Expect("fuse_lowlevel_ops.forget_multi", Off(&s.ForgetMulti, &s));
        Expect("fuse_lowlevel_ops.readdirplus", Off(&s.ReadDirPlus, &s));
    }

    [Test]
    public void EveryOperationIsFilledIn()
    {
        var table = FuseOperations.Table;
        var slots = (nint*)&table;
        var filled = Enumerable.Range(0, sizeof(FuseLowLevelOps) / 8).Count(i => slots[i] != 0);
        Assert.That(filled, Is.EqualTo(27), "one callback per declared member");
    }

    [Test]
    public void FuseEntryParamMatches()
    {
        FuseEntryParam s;
        Expect("sizeof fuse_entry_param", sizeof(FuseEntryParam));
        Expect("fuse_entry_param.ino", Off(&s.Ino, &s));
        Expect("fuse_entry_param.generation", Off(&s.Generation, &s));
        Expect("fuse_entry_param.attr", Off(&s.Attr, &s));
        Expect("fuse_entry_param.attr_timeout", Off(&s.AttrTimeout, &s));
        Expect("fuse_entry_param.entry_timeout", Off(&s.EntryTimeout, &s));
    }

    [Test]
    public void FuseCtxAndForgetDataMatch()
    {
        FuseCtx c;
        Expect("sizeof fuse_ctx", sizeof(FuseCtx));
        Expect("fuse_ctx.uid", Off(&c.Uid, &c));
        Expect("fuse_ctx.gid", Off(&c.Gid, &c));
        Expect("fuse_ctx.pid", Off(&c.Pid, &c));
        Expect("fuse_ctx.umask", Off(&c.Umask, &c));
        FuseForgetData f;
        Expect("sizeof fuse_forget_data", sizeof(FuseForgetData));
        Expect("fuse_forget_data.ino", Off(&f.Ino, &f));
        Expect("fuse_forget_data.nlookup", Off(&f.NLookup, &f));
    }

    [Test]
    public void FuseConnInfoMatches()
    {
        FuseConnInfo s;
        Expect("sizeof fuse_conn_info", sizeof(FuseConnInfo));
        Expect("fuse_conn_info.capable", Off(&s.Capable, &s));
        Expect("fuse_conn_info.want", Off(&s.Want, &s));
        Expect("FUSE_CAP_ATOMIC_O_TRUNC", FuseConnInfo.FUSE_CAP_ATOMIC_O_TRUNC);
        Expect("FUSE_CAP_READDIRPLUS_AUTO", FuseConnInfo.FUSE_CAP_READDIRPLUS_AUTO);
        Expect("FUSE_CAP_POSIX_ACL", FuseConnInfo.FUSE_CAP_POSIX_ACL);
    }

    [Test]
    public void FuseFileInfoMatchesIncludingBitFields()
    {
        FuseFileInfo s;
        Expect("sizeof fuse_file_info", sizeof(FuseFileInfo));
        Expect("fuse_file_info.flags", Off(&s.Flags, &s));
        Expect("fuse_file_info.fh", Off(&s.FileHandle, &s));
        Expect("fuse_file_info.lock_owner", Off(&s.LockOwner, &s));
        Expect("fuse_file_info.poll_events", Off(&s.PollEvents, &s));

        var bitsAt = Off(&s.Bits, &s) * 8;
        Expect("fuse_file_info.bit.writepage", bitsAt + FuseFileInfo.WritePageBit);
        Expect("fuse_file_info.bit.direct_io", bitsAt + FuseFileInfo.DirectIoBit);
        Expect("fuse_file_info.bit.keep_cache", bitsAt + FuseFileInfo.KeepCacheBit);
        Expect("fuse_file_info.bit.flush", bitsAt + FuseFileInfo.FlushBit);
        Expect("fuse_file_info.bit.nonseekable", bitsAt + FuseFileInfo.NonSeekableBit);
        Expect("fuse_file_info.bit.flock_release", bitsAt + FuseFileInfo.FlockReleaseBit);
        Expect("fuse_file_info.bit.cache_readdir", bitsAt + FuseFileInfo.CacheReaddirBit);
        Expect("fuse_file_info.bit.noflush", bitsAt + FuseFileInfo.NoFlushBit);
    }

    [Test]
    public void FileInfoPropertiesSetOnlyTheirOwnBit()
    {
        var fi = new FuseFileInfo { Flags = 2, FileHandle = 7 };
        fi.DirectIo = true;
        fi.NonSeekable = true;
        Assert.That(fi.Bits, Is.EqualTo((1u << FuseFileInfo.DirectIoBit) | (1u << FuseFileInfo.NonSeekableBit)));
        fi.DirectIo = false;
        Assert.That((fi.Bits, fi.DirectIo, fi.NonSeekable, fi.Flags, fi.FileHandle),
            Is.EqualTo((1u << FuseFileInfo.NonSeekableBit, false, true, 2, 7ul)));
    }

    [Test]
    public void StatMatches()
    {
        FuseStat s;
        Expect("sizeof stat", sizeof(FuseStat));
        Expect("stat.st_dev", Off(&s.Device, &s));
        Expect("stat.st_ino", Off(&s.Inode, &s));
        Expect("stat.st_nlink", Off(&s.LinkCount, &s));
        Expect("stat.st_mode", Off(&s.Mode, &s));
        Expect("stat.st_uid", Off(&s.Uid, &s));
        Expect("stat.st_gid", Off(&s.Gid, &s));
        Expect("stat.st_rdev", Off(&s.RDevice, &s));
        Expect("stat.st_size", Off(&s.Size, &s));
        Expect("stat.st_blksize", Off(&s.BlockSize, &s));
        Expect("stat.st_blocks", Off(&s.Blocks, &s));
        Expect("stat.st_atim", Off(&s.AccessTime, &s));
        Expect("stat.st_mtim", Off(&s.ModificationTime, &s));
        Expect("stat.st_ctim", Off(&s.ChangeTime, &s));
        FuseTimespec t;
        Expect("sizeof timespec", sizeof(FuseTimespec));
        Expect("timespec.tv_sec", Off(&t.Seconds, &t));
        Expect("timespec.tv_nsec", Off(&t.Nanoseconds, &t));
    }

    [Test]
    public void BufVecMatches()
    {
        FuseBufVec v;
        Expect("sizeof fuse_bufvec", sizeof(FuseBufVec));
        Expect("fuse_bufvec.count", Off(&v.Count, &v));
        Expect("fuse_bufvec.idx", Off(&v.Index, &v));
        Expect("fuse_bufvec.off", Off(&v.Offset, &v));
        Expect("fuse_bufvec.buf", Off(&v.Buf, &v));
        FuseBuf b;
        Expect("sizeof fuse_buf", sizeof(FuseBuf));
        Expect("fuse_buf.size", Off(&b.Size, &b));
        Expect("fuse_buf.flags", Off(&b.Flags, &b));
        Expect("fuse_buf.mem", Off(&b.Mem, &b));
        Expect("fuse_buf.fd", Off(&b.Fd, &b));
        Expect("fuse_buf.pos", Off(&b.Pos, &b));
    }

    [Test]
    public void StatVfsMatches()
    {
        FuseStatVfs s;
        Expect("sizeof statvfs", sizeof(FuseStatVfs));
        Expect("statvfs.f_bsize", Off(&s.BlockSize, &s));
        Expect("statvfs.f_frsize", Off(&s.FragmentSize, &s));
        Expect("statvfs.f_blocks", Off(&s.Blocks, &s));
        Expect("statvfs.f_bfree", Off(&s.BlocksFree, &s));
        Expect("statvfs.f_bavail", Off(&s.BlocksAvailable, &s));
        Expect("statvfs.f_files", Off(&s.Files, &s));
        Expect("statvfs.f_ffree", Off(&s.FilesFree, &s));
        Expect("statvfs.f_favail", Off(&s.FilesAvailable, &s));
        Expect("statvfs.f_fsid", Off(&s.FileSystemId, &s));
        Expect("statvfs.f_flag", Off(&s.Flags, &s));
        Expect("statvfs.f_namemax", Off(&s.NameMax, &s));
    }

    [Test]
    public void ConstantsMatch()
    {
        Expect("FUSE_ROOT_ID", (long)NodeTable.RootId);
        Expect("FUSE_SET_ATTR_MODE", (long)SetAttrFlags.Mode);
        Expect("FUSE_SET_ATTR_UID", (long)SetAttrFlags.Uid);
        Expect("FUSE_SET_ATTR_GID", (long)SetAttrFlags.Gid);
        Expect("FUSE_SET_ATTR_SIZE", (long)SetAttrFlags.Size);
        Expect("FUSE_SET_ATTR_ATIME", (long)SetAttrFlags.AccessTime);
        Expect("FUSE_SET_ATTR_MTIME", (long)SetAttrFlags.ModificationTime);
        Expect("FUSE_SET_ATTR_ATIME_NOW", (long)SetAttrFlags.AccessTimeNow);
        Expect("FUSE_SET_ATTR_MTIME_NOW", (long)SetAttrFlags.ModificationTimeNow);
        foreach (var name in new[] { "S_IFMT", "S_IFSOCK", "S_IFLNK", "S_IFREG", "S_IFBLK", "S_IFDIR", "S_IFCHR", "S_IFIFO" })
            Expect(name, (uint)typeof(FuseStat).GetField(name)!.GetValue(null)!);
        Expect("UTIME_NOW", FuseTimespec.UTIME_NOW);
        Expect("UTIME_OMIT", FuseTimespec.UTIME_OMIT);
        Expect("RENAME_EXCHANGE", FuseOperations.RenameExchange);
        Expect("MNT_DETACH", LibC.MNT_DETACH);
        Expect("AT_FDCWD", LibC.AT_FDCWD);
        Expect("AT_STATX_FORCE_SYNC", LibC.AT_STATX_FORCE_SYNC);
        Expect("STATX_TYPE", LibC.STATX_TYPE);
    }

    [Test]
    public void EveryErrnoConstantMatches()
    {
        var fields = typeof(Errno).GetFields(BindingFlags.Public | BindingFlags.Static);
        Assert.That(fields, Has.Length.GreaterThan(30));
        foreach (var f in fields) Expect(f.Name, (int)f.GetValue(null)!);
    }
}
