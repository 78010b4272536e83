namespace QomFs.Cli;

/// <summary>
/// A small getopt-like parser: <c>-s X</c>, <c>--socket X</c>, <c>--socket=X</c>, bundled short flags (<c>-vp</c>),
/// <c>--</c>, <c>-h/--help</c> and <c>--version</c>. Hand-written because the drop-in names must accept exactly QEMU's command lines.
/// </summary>
sealed class ArgParser(string prog, string usage)
{
    readonly List<(string Short, string Long, bool TakesValue)> _options = [];

    public string Prog => prog;

    /// <summary>An option that takes a value. Pass "" for a form it does not have.</summary>
    public ArgParser Value(string shortName, string longName) { _options.Add((shortName, longName, true)); return this; }
    public ArgParser Flag(string shortName, string longName) { _options.Add((shortName, longName, false)); return this; }

    /// <summary>Parses, or returns null after printing the help for -h/--help or the version for --version.</summary>
    /// <exception cref="UsageException">an unknown option or a missing value.</exception>
    public ParsedArgs? Parse(string[] args, bool stopAtFirstPositional = false)
    {
        var parsed = new ParsedArgs();
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a == "--") { parsed.Positionals.AddRange(args[(i + 1)..]); break; }
            if (a is "-h" or "--help") { Console.Out.WriteLine(UsageText.Named(usage, prog)); return null; }
            if (a == "--version") { VersionCommand.Print(prog); return null; }
            // A negative number is a value, not an option, as with Python's argparse.
            if (a.Length < 2 || a[0] != '-' || char.IsAsciiDigit(a[1]) || (parsed.Positionals.Count > 0 && stopAtFirstPositional))
            {
                parsed.Positionals.Add(a);
                if (stopAtFirstPositional) { parsed.Positionals.AddRange(args[(i + 1)..]); break; }
                continue;
            }
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                var eq = a.IndexOf('=');
                var name = eq < 0 ? a : a[..eq];
                var option = Find(o => o.Long == name) ?? throw Unknown(name);
                if (!option.TakesValue)
                {
                    if (eq >= 0) throw new UsageException($"option {name} takes no value");
                    parsed.Set(option.Long, "");
                }
                else parsed.Set(option.Long, eq >= 0 ? a[(eq + 1)..] : NextValue(args, ref i, name));
                continue;
            }
            // Short options, possibly bundled: -vp, -sSOCKET, -s SOCKET.
            for (var k = 1; k < a.Length; k++)
            {
                var name = "-" + a[k];
                var option = Find(o => o.Short == name) ?? throw Unknown(name);
                var key = option.Long != "" ? option.Long : option.Short;
                if (!option.TakesValue) { parsed.Set(key, ""); continue; }
                parsed.Set(key, k + 1 < a.Length ? a[(k + 1)..] : NextValue(args, ref i, name));
                break;
            }
        }
        return parsed;
    }

    (string Short, string Long, bool TakesValue)? Find(Func<(string Short, string Long, bool TakesValue), bool> match)
    {
        foreach (var o in _options) if (match(o)) return o;
        return null;
    }

    static string NextValue(string[] args, ref int i, string name) =>
        ++i < args.Length ? args[i] : throw new UsageException($"option {name} needs a value");

    UsageException Unknown(string name) => new($"unknown option {name} (see '{prog} --help')");
}

sealed class ParsedArgs
{
    readonly Dictionary<string, List<string>> _values = [];
    public List<string> Positionals { get; } = [];

    internal void Set(string name, string value)
    {
        if (!_values.TryGetValue(name, out var list)) _values[name] = list = [];
        list.Add(value);
    }

    public bool Has(string longName) => _values.ContainsKey(longName);
    public string? Get(string longName) => _values.TryGetValue(longName, out var v) ? v[^1] : null;
    public IReadOnlyList<string> GetAll(string longName) => _values.TryGetValue(longName, out var v) ? v : [];
}
