using System.Text;
using QomFs.Qom;

namespace QomFs.Cli.Qom;

static class QomTreeCommand
{
    const string Usage = """
        usage: qom-tree [-s SOCKET] [PATH]

        Prints the QOM tree below PATH (default /): each object's path, '  name: value (type)' for each
        non-child property, a blank line, then its children. Uses qom-list-get where QEMU has it (10.1+).

        """;

    public static int Run(string prog, string[] argv) =>
        QomSession.Run(prog, argv, Usage, 0, 1, "at most one PATH", async (qom, positionals) =>
        {
            await using var stdout = new StreamWriter(new Stdout(), new UTF8Encoding(false), 64 * 1024);
            await QomTreeWriter.WriteAsync(qom, positionals.FirstOrDefault() ?? QomPath.Root, stdout);
        }, pipelined: true);
}
