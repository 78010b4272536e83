using QomFs.Cli.Completion;
using QomFs.Cli.Ga;
using QomFs.Cli.Mount;
using QomFs.Cli.Qom;
using QomFs.Cli.Shell;

namespace QomFs.Cli;

/// <summary>Maps the name the binary was called by, or its first argument, to a command.</summary>
static class Dispatcher
{
    delegate int Command(string prog, string[] args);

    // The drop-in names: a symlink with one of these names runs that command directly.
    static readonly Dictionary<string, Command> DropIns = new()
    {
        ["qom-get"] = QomGetCommand.Run,
        ["qom-set"] = QomSetCommand.Run,
        ["qom-list"] = QomListCommand.Run,
        ["qom-tree"] = QomTreeCommand.Run,
        ["qmp-shell"] = ShellCommand.Run,
        ["qemu-ga-client"] = GaCommand.Run,
        ["qom-fuse"] = MountCommand.RunForeground,
    };

    // `qom SUB` mirrors QEMU's `qom` tool; `qomfs SUB` has everything.
    static readonly Dictionary<string, Command> QomSubcommands = new()
    {
        ["get"] = QomGetCommand.Run,
        ["set"] = QomSetCommand.Run,
        ["list"] = QomListCommand.Run,
        ["tree"] = QomTreeCommand.Run,
        ["fuse"] = MountCommand.RunForeground,
    };

    static readonly Dictionary<string, Command> QomfsSubcommands = new(QomSubcommands)
    {
        ["shell"] = ShellCommand.Run,
        ["ga"] = GaCommand.Run,
        ["mount"] = MountCommand.Run,
        ["umount"] = UmountCommand.Run,
        // qomfs qom get …: the qom family under qomfs, rather than a mount of SOURCE "qom".
        ["qom"] = (_, args) => Run("qom", args),
    };

    public static int Run(string name, string[] args)
    {
        // A backgrounded mount restarts itself under the name it was called by (see Mount/Daemon.cs).
        if (args is ["--qomfs-as", var asName, ..]) return RunAs(asName, args[2..]);
        // Hidden: what the bash completion asks (completion/qomfs.bash).
        if (args is ["__complete", ..]) return CompleteCommand.Run(args[1..]);
        if (DropIns.TryGetValue(name, out var dropIn)) return dropIn(name, args);
        var family = name == "qom" ? "qom" : "qomfs";
        var table = family == "qom" ? QomSubcommands : QomfsSubcommands;

        if (args is ["--version", ..]) return VersionCommand.Print(family);
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            var output = args.Length == 0 ? Console.Error : Console.Out;
            output.WriteLine($"usage: {family} COMMAND [ARGS...]\n\ncommands: {string.Join(", ", table.Keys)}\n\n'{family} COMMAND --help' describes a command.");
            return args.Length == 0 ? ExitCodes.Usage : ExitCodes.Ok;
        }
        if (table.TryGetValue(args[0], out var command)) return command($"{family} {args[0]}", args[1..]);
        if (family == "qomfs" && MountCommand.IsHelperForm(args)) return MountCommand.RunAsHelper("qomfs mount", args);
        Console.Error.WriteLine($"{family}: unknown command '{args[0]}' (commands: {string.Join(", ", table.Keys)})");
        return ExitCodes.Usage;
    }

    static int RunAs(string prog, string[] args)
    {
        var words = prog.Split(' ');
        return words.Length == 2 ? Run(words[0], [words[1], .. args]) : Run(prog, args);
    }
}
