using System.Text;
using QomFs.Qmp;
using QomFs.Qom;

namespace QomFs.Cli.Qom;

static class QomGetCommand
{
    const string Usage = """
        usage: qom-get [-s SOCKET] PATH.PROPERTY
               qom-get [-s SOCKET] PATH PROPERTY

        Prints a QOM property's value: a string as it is, an object as one 'key: value' line per member (as QEMU's
        qom-get does), anything else as compact JSON.
        Names may contain dots (pc.ram, sse4.2): PATH.PROPERTY is split where QEMU has such an object and property.

        """;

    public static int Run(string prog, string[] argv) =>
        QomSession.Run(prog, argv, Usage, 1, 2, "PATH.PROPERTY or PATH PROPERTY", async (qom, positionals) =>
        {
            var value = await QomSession.GetAsync(qom, prog, positionals);
            QomSession.WriteStdout(Text(value));
        });

    // Upstream prints a dict's members one per line, which scripts cut at ": "; each member's value is formatted as
    // a whole value would be.
    static byte[] Text(QmpResult value)
    {
        if (value.Json.Span.TrimStart(" \t\r\n"u8) is not [(byte)'{', ..]) return ValueCodec.Format(value.Json.Span);
        var lines = new StringBuilder();
        foreach (var member in value.ToElement().EnumerateObject())
            lines.Append(member.Name).Append(": ").Append(ValueCodec.FormatText(Encoding.UTF8.GetBytes(member.Value.GetRawText())));
        return Encoding.UTF8.GetBytes(lines.ToString());
    }
}
