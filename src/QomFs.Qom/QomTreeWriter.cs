using System.Text;
using QomFs.Qmp;

namespace QomFs.Qom;

/// <summary>
/// qom-tree's output, in upstream's layout: the path, <c>  name: value (type)</c> for each non-child property, a
/// blank line, then each child in turn. Values use the codec's text; an unreadable one prints <c>&lt;EXCEPTION: desc&gt;</c>.
/// </summary>
public static class QomTreeWriter
{
    public static async Task WriteAsync(QomClient qom, string path, TextWriter output, CancellationToken cancel = default)
    {
        var (listing, values) = await ReadObjectAsync(qom, path, cancel);
        var text = new StringBuilder();
        text.Append(path).Append('\n');
        for (var i = 0; i < listing.Length; i++)
        {
            var p = listing[i];
            if (p.Kind == QomPropertyKind.Child) continue;
            text.Append("  ").Append(p.Name).Append(": ").Append(values[i]).Append(" (").Append(p.Type).Append(")\n");
        }
        text.Append('\n');
        await output.WriteAsync(text.ToString());

        foreach (var child in listing.Where(p => p.Kind == QomPropertyKind.Child))
            await WriteAsync(qom, QomPath.Combine(path, child.Name), output, cancel);
    }

    // One qom-list-get per object where QEMU has it; otherwise qom-list plus a qom-get per property, all in flight
    // at once (QEMU answers in order, so pipelining only saves the round-trip gaps).
    static async Task<(QomProperty[], string[])> ReadObjectAsync(QomClient qom, string path, CancellationToken cancel)
    {
        var both = await qom.ListGetAsync([path], cancel);
        if (both is { Length: 1 })
        {
            var props = both[0].Properties;
            var listing = props.Select(p => new QomProperty { Name = p.Name, Type = p.Type }).ToArray();
            var texts = await Task.WhenAll(props.Select(p => p.Value is { } v
                ? Task.FromResult(Text(Encoding.UTF8.GetBytes(v.GetRawText())))
                : p.Type.StartsWith("child<", StringComparison.Ordinal) ? Task.FromResult("") : GetTextAsync(qom, path, p.Name, cancel)));
            return (listing, texts);
        }

        var list = await qom.ListAsync(path, cancel);
        var values = await Task.WhenAll(list.Select(p => p.Kind == QomPropertyKind.Child
            ? Task.FromResult("")
            : GetTextAsync(qom, path, p.Name, cancel)));
        return (list, values);
    }

    static async Task<string> GetTextAsync(QomClient qom, string path, string name, CancellationToken cancel)
    {
        try { return Text((await qom.GetAsync(path, name, cancel)).Json.Span); }
        catch (QmpCommandException e) { return $"<EXCEPTION: {e.Description}>"; }
    }

    static string Text(ReadOnlySpan<byte> json) => ValueCodec.FormatText(json)[..^1];
}
