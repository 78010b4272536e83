namespace QomFs.Cli;

/// <summary>
/// A usage text as printed under the name a command was run by: <c>qomfs get --help</c> says
/// <c>usage: qomfs get …</c>, where the text is written for the drop-in name <c>qom-get</c>.
/// </summary>
static class UsageText
{
    const string Head = "usage: ";

    public static string Named(string usage, string prog)
    {
        var lines = usage.Split('\n');
        var name = NameIn(lines[0]);
        // Already the name, or a command under it (qemu-ga-client exec).
        if (name is null || prog.StartsWith(name, StringComparison.Ordinal)) return usage;
        var indent = new string(' ', Head.Length);
        var aligned = new string(' ', Head.Length + name.Length + 1);
        for (var i = 0; i < lines.Length && lines[i].Length > 0; i++)
        {
            var line = lines[i];
            lines[i] = line.StartsWith(Head + name + " ", StringComparison.Ordinal) ? Head + prog + line[(Head.Length + name.Length)..]
                : line.StartsWith(indent + name + " ", StringComparison.Ordinal) ? indent + prog + line[(indent.Length + name.Length)..]
                // An option list continued under the first option: still under it.
                : line.Length > aligned.Length && line.StartsWith(aligned, StringComparison.Ordinal) && line[aligned.Length] != ' ' ? new string(' ', Head.Length + prog.Length + 1) + line[aligned.Length..]
                : line;
        }
        return string.Join('\n', lines);
    }

    // "usage: qomfs mount [-s SOCKET] …" → "qomfs mount": the words before the first option or argument.
    static string? NameIn(string first)
    {
        if (!first.StartsWith(Head, StringComparison.Ordinal)) return null;
        var words = first[Head.Length..].Split(' ').TakeWhile(w => w.Length > 0 && w[0] is not ('[' or '-') && !char.IsAsciiLetterUpper(w[0]));
        var name = string.Join(' ', words);
        return name.Length > 0 ? name : null;
    }
}
