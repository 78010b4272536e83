using QomFs.Qom;

namespace QomFs.Cli;

static class QomGetCommand
{
    const string Usage = """
        usage: qom-get [-s SOCKET] PATH.PROPERTY
               qom-get [-s SOCKET] PATH PROPERTY

        Prints a QOM property's value: a string as it is, anything else as compact JSON.
        Names may contain dots (pc.ram, sse4.2): PATH.PROPERTY is split where QEMU has such an object and property.

        """;

    public static int Run(string prog, string[] argv) => CommandRunner.Run(prog, async () =>
    {
        var args = QomSession.Parser(prog, Usage + QomSession.SocketHelp).Parse(argv);
        if (args is null) return ExitCodes.Ok;
        if (args.Positionals.Count is < 1 or > 2) throw new UsageException($"expected PATH.PROPERTY or PATH PROPERTY (see '{prog} --help')");

        var qom = await QomSession.ConnectAsync(args);
        await using var _ = qom.Qmp;
        var value = await QomSession.GetAsync(qom, prog, args.Positionals);
        QomSession.WriteStdout(ValueCodec.Format(value.Json.Span));
        return ExitCodes.Ok;
    });
}
