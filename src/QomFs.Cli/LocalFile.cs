using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace QomFs.Cli;

/// <summary>
/// The local files a user names to a command (a log, a copy's source or target), opened with open(2) so that a
/// failure is one line naming the file as the user gave it and the system's reason: .NET's own messages call a
/// directory "access denied" and say "could not find a part of the path".
/// </summary>
static class LocalFile
{
    const uint Mode = 0b110_110_110; // less the umask, as any file a shell command makes

    public static FileStream Read(string path) => Open(path, LibC.O_RDONLY, FileAccess.Read, $"cannot read {path}");

    /// <summary>Appended to, made if missing.</summary>
    public static FileStream Append(string path, string what) =>
        Open(path, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_APPEND, FileAccess.Write, $"cannot open {what} {path}");

    /// <summary>Emptied, made if missing.</summary>
    public static FileStream Create(string path, string what) =>
        Open(path, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_TRUNC, FileAccess.Write, $"cannot open {what} {path}");

    /// <summary>A new file at <paramref name="path"/>, for <paramref name="shown"/>: a failure names that.</summary>
    public static FileStream CreateNew(string path, string shown) =>
        Open(path, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_EXCL, FileAccess.Write, $"cannot write {shown}");

    static FileStream Open(string path, int flags, FileAccess access, string failure)
    {
        var fd = LibC.Open(path, flags | LibC.O_CLOEXEC, Mode);
        if (fd < 0) throw new LocalFileException($"{failure}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        return new FileStream(new SafeFileHandle(fd, ownsHandle: true), access);
    }
}

/// <summary>A local file could not be opened; the message names it and says why.</summary>
sealed class LocalFileException(string message) : IOException(message);
