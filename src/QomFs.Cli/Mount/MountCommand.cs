namespace QomFs.Cli.Mount;

/// <summary>`qomfs mount`, `qom-fuse` and `qom fuse`: mounts a QEMU's QOM tree.</summary>
static class MountCommand
{
    const string Usage = """
        usage: qomfs mount [-s SOCKET] MOUNTPOINT [-f] [-o OPTION[,OPTION...]]
               qomfs SOCKET MOUNTPOINT [-o OPTION[,OPTION...]]   (as mount -t fuse.qomfs and fstab run it)
               qom-fuse [-s SOCKET] MOUNTPOINT [-o ...]      (stays in the foreground)

        Mounts QEMU's QOM tree: objects are directories, child<> properties subdirectories, link<> properties
        symlinks, every other property a file (cat reads it, echo VALUE > file sets it).
        Without -f it returns once the mount is live and serves in the background.

          -s, --socket ADDR   QMP socket (default: $QMP_SOCKET)
          -f, --foreground    stay in the foreground; the log goes to stderr unless -o log=FILE
          -o OPTIONS          ro, allow_other, default_permissions, fsname=NAME, cache_ttl=SECONDS (default 1,
                              0 turns the cache off), timeout=SECONDS (per QMP command, default 3), log=FILE,
                              reconnect (keep the mount while QEMU is away: ENOTCONN until it is back),
                              and any other libfuse option; fstab-only options (defaults, nofail, _netdev,
                              auto, noauto, user, users, x-systemd.*, comment=...) are ignored
          -h, --help          this help
        Unmount with: qomfs umount MOUNTPOINT (or fusermount3 -u MOUNTPOINT)
        """;

    public static int Run(string prog, string[] argv) => Run(prog, argv, foregroundByDefault: false);

    /// <summary>
    /// What mount.fuse3 runs for `mount -t fuse.qomfs SOURCE DIR` and an fstab line: <c>qomfs SOURCE DIR -o
    /// OPTIONS</c>, with SOURCE the socket. Like any mount helper it returns once the mount is live.
    /// </summary>
    public static bool IsHelperForm(string[] args) => args is [var source, var dir, ..] && !source.StartsWith('-') && !dir.StartsWith('-');

    public static int RunAsHelper(string prog, string[] args) => Run(prog, ["-s", args[0], .. args[1..]]);

    /// <summary>The drop-in qom-fuse, like upstream's, stays in the foreground.</summary>
    public static int RunForeground(string prog, string[] argv) => Run(prog, argv, foregroundByDefault: true);

    static int Run(string prog, string[] argv, bool foregroundByDefault) => CommandRunner.Run(prog, () =>
    {
        var args = new ArgParser(prog, Usage).Value("-s", "--socket").Flag("-f", "--foreground").Value("-o", "--options").Parse(argv);
        if (args is null) return ExitCodes.Ok;
        if (args.Positionals.Count != 1) throw new UsageException($"expected one MOUNTPOINT (see '{prog} --help')");
        var address = PeerAddress.QmpSocket(args.Get("--socket"));
        var (options, logFile) = MountOptionsParser.Parse(address, Path.GetFullPath(args.Positionals[0]), args.GetAll("--options"));

        if (Daemon.IsChild) return Daemon.ServeAsChild(options, logFile);
        if (!foregroundByDefault && !args.Has("--foreground")) return Daemon.StartInBackground(prog, argv);

        using var log = logFile is null ? new DaemonLog(Console.Error) : Daemon.OpenLog(logFile);
        return QomFsDaemon.RunAsync(options, log, ready: () => { }).GetAwaiter().GetResult();
    });
}
