using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using QomFs.Fuse.Native;

namespace QomFs.Fuse;

/// <summary>
/// Mount points seen from outside a running file system: is something mounted here, is it a dead FUSE mount
/// (its daemon gone: every access fails with ENOTCONN, "Transport endpoint is not connected"), and unmounting
/// for an external "umount" command.
/// </summary>
public static class FuseMountPoint
{
    /// <summary>True if <paramref name="path"/> is a mount point (of any file system type).</summary>
    public static bool IsMounted(string path) => FileSystemType(path) is not null;

    /// <summary>
    /// True if a FUSE file system is mounted at <paramref name="path"/> whose connection is gone. It asks the
    /// file system (a stat that bypasses caches), so on a live but hung daemon this blocks like any stat would.
    /// </summary>
    public static bool IsStale(string path)
    {
        var type = FileSystemType(path);
        if (type is null || !(type == "fuse" || type == "fuseblk" || type.StartsWith("fuse.", StringComparison.Ordinal)))
            return false;
        var errno = LibC.ForcedStat(Full(path));
        return errno == Errno.ENOTCONN || errno == Errno.ECONNABORTED;
    }

    /// <summary>Detaches a dead FUSE mount at <paramref name="path"/>, if there is one; true if it did.</summary>
    public static bool ClearStale(string path)
    {
        if (!IsStale(path)) return false;
        Unmount(path, lazy: true);
        return true;
    }

    /// <summary>
    /// Unmounts whatever is mounted at <paramref name="path"/>: umount2(2) as root, fusermount3 otherwise.
    /// Lazy (MNT_DETACH / -z) takes the mount out of the namespace at once even if it is busy or dead;
    /// the file system's loop then sees the connection end once the last user lets go.
    /// </summary>
    /// <exception cref="IOException">Nothing is mounted there, or the unmount was refused (e.g. busy, not lazy).</exception>
    public static void Unmount(string path, bool lazy)
    {
        var full = Full(path);
        if (LibC.GetEuid() == 0)
        {
            if (LibC.Umount2(full, lazy ? LibC.MNT_DETACH : 0) == 0) return;
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"umount {full}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }

        var psi = new ProcessStartInfo("fusermount3") { RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-u");
        if (lazy) psi.ArgumentList.Add("-z");
        psi.ArgumentList.Add("--");
        psi.ArgumentList.Add(full);
        using var process = Process.Start(psi) ?? throw new IOException("cannot start fusermount3");
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new IOException($"fusermount3 -u {full}: {error.Trim()}");
    }

    internal static string Full(string path)
    {
        var full = Path.GetFullPath(path);
        return full.Length > 1 ? full.TrimEnd('/') : full;
    }

    /// <summary>
    /// The type of the topmost mount at <paramref name="path"/> from /proc/self/mountinfo, or null. Reading the
    /// table never touches the mounted file system, so it cannot hang on a dead or busy daemon.
    /// </summary>
    static string? FileSystemType(string path)
    {
        var full = Full(path);
        string? type = null;
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            // id parent major:minor root mountpoint options [optional fields...] - type source super-options
            var fields = line.Split(' ');
            if (fields.Length < 7 || Unescape(fields[4]) != full) continue;
            var separator = Array.IndexOf(fields, "-", 6);
            if (separator > 0 && separator + 1 < fields.Length) type = fields[separator + 1];
        }
        return type;
    }

    /// <summary>mountinfo writes space, tab, newline and backslash as octal escapes (\040...).</summary>
    static string Unescape(string field)
    {
        if (!field.Contains('\\')) return field;
        var bytes = new List<byte>(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length
                && IsOctal(field[i + 1]) && IsOctal(field[i + 2]) && IsOctal(field[i + 3]))
            {
                bytes.Add((byte)((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0')));
                i += 3;
            }
            else bytes.AddRange(Encoding.UTF8.GetBytes(field[i].ToString()));
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    static bool IsOctal(char c) => c is >= '0' and <= '7';
}
