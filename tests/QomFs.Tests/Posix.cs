using System.Runtime.InteropServices;
using System.Text;

namespace QomFs.Tests;

/// <summary>Raw system calls, so that tests see the exact errno a filesystem operation returned.</summary>
static unsafe class Posix
{
    public const int EPERM = 1, ENOENT = 2, EIO = 5, EBADF = 9, EACCES = 13, EISDIR = 21, EINVAL = 22, EFBIG = 27,
        ESPIPE = 29, EROFS = 30, ENODATA = 61, ENOTCONN = 107, ETIMEDOUT = 110;

    /// <summary>Reads a whole file in 4 KiB reads: the errno of the first failing call, and what was read.</summary>
    public static (int Errno, byte[] Data) Read(string path)
    {
        var fd = open(path, 0);
        if (fd < 0) return (Marshal.GetLastPInvokeError(), []);
        try
        {
            var data = new MemoryStream();
            var buffer = new byte[4096];
            while (true)
            {
                long n;
                fixed (byte* b = buffer) n = read(fd, b, buffer.Length);
                if (n < 0) return (Marshal.GetLastPInvokeError(), data.ToArray());
                if (n == 0) return (0, data.ToArray());
                data.Write(buffer, 0, (int)n);
            }
        }
        finally { close(fd); }
    }

    /// <summary>open(O_WRONLY|O_TRUNC), one write per chunk, close: the errno of the first failing call (0 if none).</summary>
    public static int Write(string path, params byte[][] chunks)
    {
        var fd = open(path, 1 | 0x200);
        if (fd < 0) return Marshal.GetLastPInvokeError();
        var error = 0;
        foreach (var c in chunks)
        {
            long n;
            fixed (byte* b = c) n = write(fd, b, c.Length);
            if (n < 0) { error = Marshal.GetLastPInvokeError(); break; }
        }
        if (close(fd) < 0 && error == 0) error = Marshal.GetLastPInvokeError();
        return error;
    }

    public static int Write(string path, string text) => Write(path, Encoding.UTF8.GetBytes(text));

    /// <summary>pwrite at an offset other than the end of what was written.</summary>
    public static int WriteAt(string path, byte[] first, long offset, byte[] second)
    {
        var fd = open(path, 1);
        if (fd < 0) return Marshal.GetLastPInvokeError();
        try
        {
            fixed (byte* b = first) if (write(fd, b, first.Length) < 0) return Marshal.GetLastPInvokeError();
            fixed (byte* b = second) if (pwrite(fd, b, second.Length, offset) < 0) return Marshal.GetLastPInvokeError();
            return 0;
        }
        finally { close(fd); }
    }

    public static int Errno(Func<int> call) => call() < 0 ? Marshal.GetLastPInvokeError() : 0;

    public static int Kill(int pid, int signal) => kill(pid, signal);

    /// <summary>Whether a process sleeps waiting for a FUSE file system's answer (its wait channel).</summary>
    public static bool WaitsInFuse(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/wchan") == "request_wait_answer"; }
        catch (IOException) { return false; } // gone meanwhile
    }

    [DllImport("libc", SetLastError = true)] public static extern int open(string path, int flags);
    [DllImport("libc", SetLastError = true)] static extern long read(int fd, byte* buffer, long count);
    [DllImport("libc", SetLastError = true)] static extern long write(int fd, byte* buffer, long count);
    [DllImport("libc", SetLastError = true)] static extern long pwrite(int fd, byte* buffer, long count, long offset);
    [DllImport("libc", SetLastError = true)] public static extern int close(int fd);
    [DllImport("libc", SetLastError = true)] static extern int kill(int pid, int signal);
    [DllImport("libc", SetLastError = true)] public static extern int truncate(string path, long length);
    [DllImport("libc", SetLastError = true)] public static extern long lgetxattr(string path, string name, byte* value, long size);
}
