using System.Text;
using QomFs.Qom;

namespace QomFs.Cli.Qom;

static class QomListCommand
{
    const string Usage = """
        usage: qom-list [-s SOCKET] [PATH]

        Lists an object's properties (PATH defaults to /), one a line: 'name/' for a child object,
        '@name/' for a link, 'name' for any other property.

        """;

    public static int Run(string prog, string[] argv) =>
        QomSession.Run(prog, argv, Usage, 0, 1, "at most one PATH", async (qom, positionals) =>
        {
            var text = new StringBuilder();
            foreach (var p in await qom.ListAsync(positionals.FirstOrDefault() ?? QomPath.Root))
                text.Append(p.Kind switch
                {
                    QomPropertyKind.Child => p.Name + "/",
                    QomPropertyKind.Link => "@" + p.Name + "/",
                    _ => p.Name,
                }).Append('\n');
            QomSession.WriteStdout(Encoding.UTF8.GetBytes(text.ToString()));
        });
}
