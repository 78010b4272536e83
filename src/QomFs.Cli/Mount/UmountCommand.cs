using QomFs.Fuse;

namespace QomFs.Cli.Mount;

/// <summary>`qomfs umount MOUNTPOINT`: unmounts, lazily when busy, and clears a dead mount.</summary>
static class UmountCommand
{
    const string Usage = """
        usage: qomfs umount MOUNTPOINT

        Unmounts a QomFs mount. If it is busy (a shell has its working directory inside), the unmount is lazy:
        the mount leaves the namespace at once and the daemon exits when the last user lets go.
        A dead mount left by a killed daemon is cleared too.
        """;

    public static int Run(string prog, string[] argv) => CommandRunner.Run(prog, () =>
    {
        var args = new ArgParser(prog, Usage).Parse(argv);
        if (args is null) return ExitCodes.Ok;
        if (args.Positionals.Count != 1) throw new UsageException($"expected one MOUNTPOINT (see '{prog} --help')");
        var mountPoint = Path.GetFullPath(args.Positionals[0]);
        if (!FuseMountPoint.IsMounted(mountPoint)) throw new IOException($"{mountPoint} is not mounted");
        if (FuseMountPoint.ClearStale(mountPoint)) return ExitCodes.Ok;
        try { FuseMountPoint.Unmount(mountPoint, lazy: false); }
        catch (IOException) { FuseMountPoint.Unmount(mountPoint, lazy: true); }
        return ExitCodes.Ok;
    });
}
