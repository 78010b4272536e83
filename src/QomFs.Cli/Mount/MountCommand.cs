using QomFs.Host;
using QomFs.Qmp;

namespace QomFs.Cli.Mount;

/// <summary>`qomfs mount`, `qom-fuse` and `qom fuse`: mounts a QEMU's QOM tree.</summary>
static class MountCommand
{
    const string Usage = """
        usage: qomfs mount [-s SOCKET] MOUNTPOINT [-f] [-o OPTION[,OPTION...]]
               qomfs mount --libvirt [URI] MOUNTPOINT [-f] [-o ...]   (a directory per running domain)
               qomfs mount --dir DIR MOUNTPOINT [-f] [-o ...]         (a directory per QMP socket in DIR)
               qomfs SOCKET MOUNTPOINT [-o OPTION[,OPTION...]]   (as mount -t fuse.qomfs and fstab run it)
               qom-fuse [-s SOCKET] MOUNTPOINT [-o ...]      (stays in the foreground)

        Mounts QEMU's QOM tree: objects are directories, child<> properties subdirectories, link<> properties
        symlinks, every other property a file (cat reads it, echo VALUE > file sets it).
        Without -f it returns once the mount is live and serves in the background.

          -s, --socket ADDR   QMP socket, or libvirt:DOMAIN / libvirt:URI#DOMAIN (default: $QMP_SOCKET)
          --libvirt [URI]     every running domain of libvirt's URI (default: libvirt's default URI), as
                              MOUNTPOINT/DOMAIN/...; domains appear and vanish as they start and stop
          --dir DIR           every QMP socket in DIR, as MOUNTPOINT/NAME/... (NAME.qmp -> NAME); sockets
                              appear and vanish as they are made and removed
          -f, --foreground    stay in the foreground; the log goes to stderr unless -o log=FILE
          -o OPTIONS          ro, allow_other, default_permissions, fsname=NAME, cache_ttl=SECONDS (default 1,
                              0 turns the cache off), timeout=SECONDS (per QMP command, default 3), log=FILE,
                              reconnect (keep the mount while QEMU is away: ENOTCONN until it is back),
                              qmp_proxy=PATH|none (where the mount shares QEMU's QMP; default: a socket in
                              $XDG_RUNTIME_DIR/qomfs or /run/qomfs, also MOUNTPOINT/.qmp.sock; --libvirt,
                              --dir: a directory for a socket per VM, PATH/NAME.qmp, also NAME/.qmp.sock),
                              events (MOUNTPOINT/.events streams QEMU's events as JSON lines; costs every
                              open(2) of a file one round trip to the daemon, so off by default),
                              idle_timeout=SECONDS (--libvirt, --dir: a VM's connection opens at its first
                              use and closes after this long unused, default 60),
                              and any other libfuse option; fstab-only options (defaults, nofail, _netdev,
                              auto, noauto, user, users, x-systemd.*, comment=...) are ignored
          -h, --help          this help
        Unmount with: qomfs umount MOUNTPOINT (or fusermount3 -u MOUNTPOINT)
        """;

    public static int Run(string prog, string[] argv) => Run(prog, argv, foregroundByDefault: false);

    static HostSource? HostSourceOf(ParsedArgs args, string prog)
    {
        var sources = (args.Has("--libvirt") ? 1 : 0) + (args.Has("--dir") ? 1 : 0) + (args.Has("--socket") ? 1 : 0);
        if (sources > 1) throw new UsageException($"give one of -s, --libvirt and --dir (see '{prog} --help')");
        if (args.Has("--dir")) return new HostSource.SocketDirectory(Path.GetFullPath(args.Get("--dir")!));
        if (!args.Has("--libvirt")) return null;
        return new HostSource.Libvirt(args.Positionals.Count == 2 ? args.Positionals[0] : "");
    }

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
        var args = new ArgParser(prog, Usage).Value("-s", "--socket").Flag("-f", "--foreground").Value("-o", "--options")
            .Flag("", "--libvirt").Value("", "--dir").Parse(argv);
        if (args is null) return ExitCodes.Ok;
        var host = HostSourceOf(args, prog);
        var expected = host is HostSource.Libvirt ? 2 : 1;
        if (args.Positionals.Count < 1 || args.Positionals.Count > expected)
            throw new UsageException($"expected {(expected == 2 ? "[URI] " : "")}MOUNTPOINT (see '{prog} --help')");
        // A host mount has no address of its own; the source stands in for the messages.
        var address = host switch
        {
            HostSource.Libvirt l => QmpAddress.Libvirt(l.Uri, ""),
            HostSource.SocketDirectory d => QmpAddress.Unix(d.Path),
            _ => PeerAddress.QmpSocket(args.Get("--socket")),
        };
        var (parsed, logFile) = MountOptionsParser.Parse(address, Path.GetFullPath(args.Positionals[^1]), args.GetAll("--options"));
        var options = parsed with { Host = host };

        if (Daemon.IsChild) return Daemon.ServeAsChild(options, logFile);
        if (!foregroundByDefault && !args.Has("--foreground")) return Daemon.StartInBackground(prog, argv);

        using var log = logFile is null ? new DaemonLog(Console.Error) : Daemon.OpenLog(logFile);
        return QomFsDaemon.RunAsync(options, log, ready: () => { }).GetAwaiter().GetResult();
    });
}
