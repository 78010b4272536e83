namespace QomFs.Testing;

/// <summary>Looks at /proc/mounts and takes down FUSE mounts that a test made.</summary>
public static class Mounts
{
    public static bool IsMounted(string mountpoint)
    {
        var full = Path.GetFullPath(mountpoint).TrimEnd('/');
        foreach (var line in File.ReadLines("/proc/mounts"))
        {
            var fields = line.Split(' ');
            if (fields.Length > 1 && Unescape(fields[1]) == full) return true;
        }
        return false;
    }

    /// <summary>fusermount3 -u, and a lazy unmount if that fails (a busy or dead mount).</summary>
    public static void Unmount(string mountpoint)
    {
        if (!IsMounted(mountpoint)) return;
        var r = ProcessRunner.Run("fusermount3", ["-u", mountpoint], TimeSpan.FromSeconds(10));
        if (r.ExitCode != 0 && IsMounted(mountpoint))
            ProcessRunner.Run("fusermount3", ["-u", "-z", mountpoint], TimeSpan.FromSeconds(10));
    }

    static string Unescape(string field) =>
        field.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\");
}
