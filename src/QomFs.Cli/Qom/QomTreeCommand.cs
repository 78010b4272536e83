using System.Text;
using QomFs.Qom;

namespace QomFs.Cli;

static class QomTreeCommand
{
    const string Usage = """
        usage: qom-tree [-s SOCKET] [PATH]

        Prints the QOM tree below PATH (default /): each object's path, '  name: value (type)' for each
        non-child property, a blank line, then its children. Uses qom-list-get where QEMU has it (10.1+).

        """;

    public static int Run(string prog, string[] argv) => CommandRunner.Run(prog, async () =>
    {
        var args = QomSession.Parser(prog, Usage + QomSession.SocketHelp).Parse(argv);
        if (args is null) return ExitCodes.Ok;
        if (args.Positionals.Count > 1) throw new UsageException($"expected at most one PATH (see '{prog} --help')");

        var qom = await QomSession.ConnectAsync(args);
        await using var _ = qom.Qmp;
        await using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 64 * 1024);
        await QomTreeWriter.WriteAsync(qom, args.Positionals.FirstOrDefault() ?? QomPath.Root, stdout);
        return ExitCodes.Ok;
    });
}
