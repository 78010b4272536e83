using System.Text;
using QomFs.Qom;

namespace QomFs.Cli;

static class QomSetCommand
{
    const string Usage = """
        usage: qom-set [-s SOCKET] PATH.PROPERTY VALUE
               qom-set [-s SOCKET] PATH PROPERTY VALUE

        Sets a QOM property. VALUE is converted with the property's type: bool takes true/false/on/off/yes/no/1/0,
        integers take decimal or 0x hex (range-checked), str takes the text as it is, anything else takes JSON
        (a bare word, such as an enum value, is taken as a string). Prints nothing on success.

        """;

    public static int Run(string prog, string[] argv) => CommandRunner.Run(prog, async () =>
    {
        var args = QomSession.Parser(prog, Usage + QomSession.SocketHelp).Parse(argv);
        if (args is null) return ExitCodes.Ok;
        if (args.Positionals.Count is < 2 or > 3) throw new UsageException($"expected PATH.PROPERTY VALUE or PATH PROPERTY VALUE (see '{prog} --help')");

        var qom = await QomSession.ConnectAsync(args);
        await using var _ = qom.Qmp;
        var text = args.Positionals[^1];
        var (path, property, info) = await QomSession.TargetAsync(qom, prog, args.Positionals[..^1]);
        info ??= (await qom.ListAsync(path)).FirstOrDefault(p => p.Name == property);

        // An unknown property is still sent (as a string), so that QEMU's own error names what is missing.
        var json = info is null ? ValueCodec.Parse(text, "str", property) : ValueCodec.Parse(text, info.Type, property);
        await qom.SetAsync(path, property, json);
        return ExitCodes.Ok;
    });
}
