using QomFs.Qom;

namespace QomFs.Cli.Qom;

static class QomSetCommand
{
    const string Usage = """
        usage: qom-set [-s SOCKET] PATH.PROPERTY VALUE
               qom-set [-s SOCKET] PATH PROPERTY VALUE

        Sets a QOM property. VALUE is converted with the property's type: bool takes true/false/on/off/yes/no/1/0,
        integers take decimal or 0x hex (range-checked), str takes the text as it is, anything else takes JSON
        (a bare word, such as an enum value, is taken as a string). Prints nothing on success.

        """;

    public static int Run(string prog, string[] argv) =>
        QomSession.Run(prog, argv, Usage, 2, 3, "PATH.PROPERTY VALUE or PATH PROPERTY VALUE", async (qom, positionals) =>
        {
            var (path, property, info) = await QomSession.SetTargetAsync(qom, prog, positionals[..^1]);
            // An unknown property is still sent (as a string), so that QEMU's own error names what is missing.
            await qom.SetAsync(path, property, ValueCodec.Parse(positionals[^1], info?.Type ?? "str", property));
        });
}
