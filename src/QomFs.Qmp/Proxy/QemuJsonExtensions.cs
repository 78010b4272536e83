namespace QomFs.Qmp.Proxy;

/// <summary>
/// QEMU's JSON parser takes two extensions that clients written against it use: strings in single quotes
/// (<c>{'execute': 'query-status'}</c>, common in QEMU's own documentation) and the escape <c>\'</c> in either kind
/// of string. The proxy parses requests with a standard parser, so it first rewrites those into standard JSON
/// with the same meaning.
/// </summary>
static class QemuJsonExtensions
{
    /// <summary>The request in standard JSON, or null when it has no single quote and so nothing to rewrite.</summary>
    public static byte[]? ToStandard(ReadOnlySpan<byte> request)
    {
        if (!request.Contains((byte)'\'')) return null;
        var output = new List<byte>(request.Length + 8);
        byte quote = 0;
        for (var i = 0; i < request.Length; i++)
        {
            var b = request[i];
            if (quote == 0)
            {
                if (b is (byte)'"' or (byte)'\'')
                {
                    quote = b;
                    output.Add((byte)'"');
                }
                else output.Add(b);
                continue;
            }
            if (b == '\\' && i + 1 < request.Length)
            {
                var escaped = request[++i];
                if (escaped != '\'') output.Add(b);
                output.Add(escaped);
            }
            else if (b == quote)
            {
                quote = 0;
                output.Add((byte)'"');
            }
            else
            {
                // Only inside single quotes: a double quote there is a character of the string.
                if (b == '"') output.Add((byte)'\\');
                output.Add(b);
            }
        }
        return [.. output];
    }
}
