namespace QomFs.Qmp.Proxy;

/// <summary>
/// Finds where each request of a client's byte stream ends, as QEMU's JSON streamer does: a request is a JSON
/// value, ended by the bracket that closes it, with or without a newline after it (our own client sends none).
/// A string or a bare word outside any bracket (<c>"abc"</c>, <c>garbage</c>) is a request too, one QEMU refuses; a
/// word ends at the next space or bracket. Strings are in double or single quotes, as QEMU's lexer reads them.
/// Keeps its state between chunks, so that a request may arrive in pieces.
/// </summary>
sealed class RequestSplitter
{
    int _depth;
    // The quote that opened the string being scanned; 0 outside strings.
    byte _quote;
    bool _escaped, _bare;

    /// <summary>Scans <paramref name="data"/>: the index just after the end of a request, or -1 if none ends in it.</summary>
    public int FindEnd(ReadOnlySpan<byte> data)
    {
        for (var i = 0; i < data.Length; i++)
        {
            var b = data[i];
            if (_quote != 0)
            {
                if (_escaped) _escaped = false;
                else if (b == '\\') _escaped = true;
                else if (b == _quote)
                {
                    _quote = 0;
                    if (_depth == 0) return i + 1;
                }
                continue;
            }
            if (_bare)
            {
                if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)'{' or (byte)'[')
                {
                    _bare = false;
                    return i;
                }
                continue;
            }
            switch (b)
            {
                case (byte)'"' or (byte)'\'':
                    _quote = b;
                    break;
                case (byte)'{' or (byte)'[':
                    _depth++;
                    break;
                case (byte)'}' or (byte)']':
                    // A stray closing bracket is a request of its own, which QEMU refuses.
                    if (_depth == 0 || --_depth == 0) return i + 1;
                    break;
                case (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n':
                    break;
                default:
                    if (_depth == 0) _bare = true;
                    break;
            }
        }
        return -1;
    }
}
