using QomFs.Qom;

namespace QomFs.Cli.Qom;

static class QomGetCommand
{
    const string Usage = """
        usage: qom-get [-s SOCKET] PATH.PROPERTY
               qom-get [-s SOCKET] PATH PROPERTY

        Prints a QOM property's value: a string as it is, anything else as compact JSON.
        Names may contain dots (pc.ram, sse4.2): PATH.PROPERTY is split where QEMU has such an object and property.

        """;

    public static int Run(string prog, string[] argv) =>
        QomSession.Run(prog, argv, Usage, 1, 2, "PATH.PROPERTY or PATH PROPERTY", async (qom, positionals) =>
        {
            var value = await QomSession.GetAsync(qom, prog, positionals);
            QomSession.WriteStdout(ValueCodec.Format(value.Json.Span));
        });
}
