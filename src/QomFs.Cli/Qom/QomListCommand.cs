using System.Text;
using QomFs.Qom;

namespace QomFs.Cli;

static class QomListCommand
{
    const string Usage = """
        usage: qom-list [-s SOCKET] [PATH]

        Lists an object's properties (PATH defaults to /), one a line: 'name/' for a child object,
        '@name/' for a link, 'name' for any other property.

        """;

    public static int Run(string prog, string[] argv) => CommandRunner.Run(prog, async () =>
    {
        var args = QomSession.Parser(prog, Usage + QomSession.SocketHelp).Parse(argv);
        if (args is null) return ExitCodes.Ok;
        if (args.Positionals.Count > 1) throw new UsageException($"expected at most one PATH (see '{prog} --help')");

        var qom = await QomSession.ConnectAsync(args);
        await using var _ = qom.Qmp;
        var text = new StringBuilder();
        foreach (var p in await qom.ListAsync(args.Positionals.FirstOrDefault() ?? QomPath.Root))
            text.Append(p.Kind switch
            {
                QomPropertyKind.Child => p.Name + "/",
                QomPropertyKind.Link => "@" + p.Name + "/",
                _ => p.Name,
            }).Append('\n');
        QomSession.WriteStdout(Encoding.UTF8.GetBytes(text.ToString()));
        return ExitCodes.Ok;
    });
}
