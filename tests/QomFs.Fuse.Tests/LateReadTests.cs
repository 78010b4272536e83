using System.Text;
using QomFs.Fuse;
using QomFs.Testing;

namespace QomFs.Fuse.Tests;

/// <summary>Reads answered after their callback returned (<see cref="IFuseFileSystem.ReadAsync"/>).</summary>
[Category(Needs.Fuse)]
public class LateReadTests
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Test]
    public void ALateReadFreesTheWorkerAndReachesTheReader()
    {
        var fs = new LateFileSystem();
        // One worker: the second read is served only if the first left it free.
        using var m = TestMount.Start(fs, new FuseMountOptions { MaxThreads = 1 });
        var late = Task.Run(() => File.ReadAllText(m["late"]));
        Assert.That(fs.Asked.Wait(Deadline), Is.True, "the late read never reached the file system");

        Assert.That(File.ReadAllText(m["now"]), Is.EqualTo("now\n"), "the worker was still busy with the late read");
        Assert.That(late.IsCompleted, Is.False);

        new Thread(() => fs.Answer.SetResult("late\n"u8.ToArray())).Start();
        Assert.That(late.Wait(Deadline), Is.True, "the late reply never reached the reader");
        Assert.That(late.Result, Is.EqualTo("late\n"));
    }

    [Test]
    public void ALateFailureReachesTheReaderAsItsErrno()
    {
        var fs = new LateFileSystem();
        using var m = TestMount.Start(fs);
        var late = Task.Run(() => ProcessRunner.Run("cat", [m["late"]], Deadline));
        Assert.That(fs.Asked.Wait(Deadline), Is.True, "the late read never reached the file system");
        fs.Answer.SetException(new FuseException(Errno.ETIMEDOUT));
        Assert.That(late.Wait(Deadline), Is.True);
        Assert.That(late.Result.StdErr, Does.Contain("Connection timed out"));
    }

    [Test]
    public void TheMountWaitsForALateReplyBeforeItGoes()
    {
        var fs = new LateFileSystem();
        using var m = TestMount.Start(fs);
        // One read(2): once the loop has ended, no request after it could be served.
        var late = Task.Run(() =>
        {
            using var file = File.OpenHandle(m["late"]);
            var buffer = new byte[64];
            return Encoding.ASCII.GetString(buffer, 0, RandomAccess.Read(file, buffer, 0));
        });
        Assert.That(fs.Asked.Wait(Deadline), Is.True, "the late read never reached the file system");

        m.Mount.Exit();
        Assert.That(m.WaitForRun(TimeSpan.FromMilliseconds(300)), Is.False, "Run returned with a read unanswered");
        fs.Answer.SetResult("late\n"u8.ToArray());
        Assert.That(late.Wait(Deadline), Is.True, "the late reply never reached the reader");
        Assert.That(late.Result, Is.EqualTo("late\n"));
        Assert.That(m.WaitForRun(Deadline), Is.True, "Run did not return after the reply");
        Assert.That(m.RunError, Is.Null);
    }

    /// <summary>"now" is read at once; "late" waits for <see cref="Answer"/>, completed by the test.</summary>
    sealed class LateFileSystem : IFuseFileSystem
    {
        public readonly ManualResetEventSlim Asked = new();
        public readonly TaskCompletionSource<byte[]> Answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int GetAttr(ReadOnlySpan<byte> path, ref FuseStat stat, FuseFileInfoRef fi)
        {
            if (path.SequenceEqual("/"u8)) stat.Mode = FuseStat.S_IFDIR | 0x1ED;
            else if (path.SequenceEqual("/now"u8) || path.SequenceEqual("/late"u8)) (stat.Mode, stat.Size) = (FuseStat.S_IFREG | 0x1A4, 4096);
            else return -Errno.ENOENT;
            return 0;
        }

        public int ReadDir(ReadOnlySpan<byte> path, ref FuseDirectoryFiller filler, ulong offset, FuseReadDirFlags flags, FuseFileInfoRef fi) => 0;

        public int Open(ReadOnlySpan<byte> path, ref FuseFileInfo fi)
        {
            fi.DirectIo = true;
            return 0;
        }

        public ValueTask<int> ReadAsync(ReadOnlySpan<byte> path, ulong offset, Memory<byte> buffer, FuseFileInfo fi)
        {
            if (path.SequenceEqual("/now"u8)) return new(Copy("now\n"u8.ToArray(), offset, buffer));
            Asked.Set();
            return new(Answer.Task.ContinueWith(t => Copy(t.GetAwaiter().GetResult(), offset, buffer),
                TaskContinuationOptions.ExecuteSynchronously));
        }

        static int Copy(byte[] data, ulong offset, Memory<byte> buffer)
        {
            if (offset >= (ulong)data.Length) return 0;
            var n = Math.Min(buffer.Length, data.Length - (int)offset);
            data.AsSpan((int)offset, n).CopyTo(buffer.Span);
            return n;
        }
    }
}
