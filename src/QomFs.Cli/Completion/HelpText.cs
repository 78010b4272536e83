using System.Text.RegularExpressions;

namespace QomFs.Cli.Completion;

/// <summary>
/// What completion knows of a command, read from the very help text its --help prints (run in-process), so that
/// an option or command added there completes with no second list to keep.
/// </summary>
sealed partial class HelpText
{
    readonly string[] _lines;

    HelpText(string text) => _lines = text.Split('\n');

    /// <summary>The help of NAME [SUB] --help, as the user would see it.</summary>
    public static HelpText Of(string name, string? subcommand)
    {
        var saved = Console.Out;
        var captured = new StringWriter();
        Console.SetOut(captured);
        try { Dispatcher.Run(name, subcommand is null ? ["--help"] : [subcommand, "--help"]); }
        finally { Console.SetOut(saved); }
        return new HelpText(captured.ToString());
    }

    /// <summary>
    /// The options, and whether each takes a value: from the usage lines (<c>[-l|--logfile FILE]</c>) and the
    /// option table (<c>  -s, --socket ADDR   text</c>).
    /// </summary>
    public Dictionary<string, bool> Options()
    {
        var options = new Dictionary<string, bool> { ["--help"] = false, ["--version"] = false };
        foreach (var line in UsageLines())
            foreach (Match m in UsageOption().Matches(line))
                foreach (var name in m.Groups[1].Value.Split('|'))
                    options[name] = m.Groups[2].Success;
        foreach (var line in _lines)
        {
            var m = TableOption().Match(line);
            if (!m.Success) continue;
            // An optional value ("--libvirt [URI]") is no value to wait for: the next word completes as any other.
            foreach (var name in m.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                options[name] = m.Groups[2].Success && !m.Groups[2].Value.StartsWith(" [", StringComparison.Ordinal);
        }
        return options;
    }

    /// <summary>
    /// The commands a help lists: <c>commands: a, b, c</c> on one line, or a <c>commands:</c> block whose entries
    /// start two spaces in (<c>  fsfreeze status|freeze|thaw   text</c>, <c>  reboot, shutdown</c>), with the
    /// alternatives of each entry's first argument.
    /// </summary>
    public Dictionary<string, string[]> Commands()
    {
        var commands = new Dictionary<string, string[]>();
        for (var i = 0; i < _lines.Length; i++)
        {
            var line = _lines[i].TrimEnd();
            if (!line.StartsWith("commands:", StringComparison.Ordinal)) continue;
            foreach (var name in line["commands:".Length..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                commands[name] = [];
            for (i++; i < _lines.Length && _lines[i].Trim().Length > 0; i++)
            {
                var entry = CommandEntry().Match(_lines[i]);
                if (!entry.Success) continue;
                var words = entry.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (words.Length > 0 && words[0].EndsWith(','))
                    foreach (var name in entry.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries)) commands[name] = [];
                else if (words.Length > 0)
                    commands[words[0]] = words.Length > 1 && words[1].Contains('|') ? words[1].Split('|') : [];
            }
        }
        return commands;
    }

    IEnumerable<string> UsageLines()
    {
        var inUsage = false;
        foreach (var line in _lines)
        {
            if (line.StartsWith("usage:", StringComparison.Ordinal)) inUsage = true;
            else if (line.Trim().Length == 0) inUsage = false;
            if (inUsage) yield return line;
        }
    }

    // [-s SOCKET], [-H|--hmp], [--timeout S], [-o OPTION[,OPTION...]]
    [GeneratedRegex(@"\[(--?[A-Za-z][\w-]*(?:\|--?[A-Za-z][\w-]*)*)( [A-Z][A-Z0-9_]*)?[\]\[]")]
    private static partial Regex UsageOption();

    // "  -s, --socket ADDR   text", "      --timeout S   text", "  -h, --help   text", "  --libvirt [URI]   text"
    [GeneratedRegex(@"^\s+(--?[A-Za-z][\w-]*(?:,\s*--?[A-Za-z][\w-]*)*)( [A-Z][A-Z0-9_]*| \[[A-Z][A-Z0-9_]*\])?(?:\s{2,}|$)")]
    private static partial Regex TableOption();

    // "  ping [TIMEOUT]      text": the entry, up to two spaces; exactly two spaces in (deeper lines continue one).
    [GeneratedRegex(@"^  ([a-z][^ ].*?)(?:\s{2,}|$)")]
    private static partial Regex CommandEntry();
}
