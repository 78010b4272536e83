using System.Text;
using QomFs.Fuse;
using QomFs.Qom;

namespace QomFs;

/// <summary>
/// The <c>user.qom.*</c> extended attributes: an entry's QOM type, and a property's description and default value
/// (the root directory has only its type).
/// </summary>
sealed class ExtendedAttributes(QomCache cache)
{
    /// <summary>getxattr(2): the value's length, or a negated errno.</summary>
    public int Get(QomEntry entry, string wanted, Span<byte> value)
    {
        // Not one of ours (ls -l asks every entry for security.selinux): no value needs computing, or fetching.
        if (!wanted.StartsWith("user.qom.", StringComparison.Ordinal)) return -Errno.ENODATA;
        var attribute = Of(entry).FirstOrDefault(a => a.Name == wanted);
        return attribute.Name is null ? -Errno.ENODATA : FuseXAttr.Copy(Encoding.UTF8.GetBytes(attribute.Value), value);
    }

    /// <summary>listxattr(2): the names' length, or a negated errno.</summary>
    public int List(QomEntry entry, Span<byte> list)
    {
        var names = new StringBuilder();
        foreach (var (name, _) in Of(entry)) names.Append(name).Append('\0');
        return FuseXAttr.Copy(Encoding.UTF8.GetBytes(names.ToString()), list);
    }

    IEnumerable<(string Name, string Value)> Of(QomEntry entry)
    {
        if (entry.Property is null)
        {
            yield return ("user.qom.type", Encoding.UTF8.GetString(FuseWorker.Run(() => cache.GetTextAsync(QomPath.Root, "type"), ErrnoMapping.ForRead)).TrimEnd('\n'));
            yield break;
        }
        // The type came with the listing; only a description or a default can cost a command (one qom-list, where
        // the listing was a qom-list-get), so `getfattr -n user.qom.type` sends none.
        yield return ("user.qom.type", entry.Property.Type);
        var p = FuseWorker.Run(() => cache.DescribeAsync(entry.Owner, entry.Name), ErrnoMapping.ForRead) ?? entry.Property;
        if (p.Description is { } d) yield return ("user.qom.description", d);
        if (p.DefaultValue is { } v) yield return ("user.qom.default-value", ValueCodec.FormatText(Encoding.UTF8.GetBytes(v.GetRawText())).TrimEnd('\n'));
    }
}
