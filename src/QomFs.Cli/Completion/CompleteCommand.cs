using QomFs.Qmp;
using QomFs.Qom;

namespace QomFs.Cli.Completion;

/// <summary>
/// <c>qomfs __complete CWORD WORD...</c>, hidden: what the bash completion script (completion/qomfs.bash) asks for
/// the word at CWORD of a command line. Prints the candidates that start with that word, one a line: subcommands,
/// options and ga commands from the help texts, QOM paths and property names from QEMU (the socket of -s/--socket
/// or $QMP_SOCKET, within the command's timeout). Prints nothing, with status 0, when it has nothing or anything
/// fails, so that the shell falls back to file names and never shows an error.
/// </summary>
static class CompleteCommand
{
    public static int Run(string[] args)
    {
        try
        {
            if (args.Length < 2 || !int.TryParse(args[0], out var cword) || cword < 1) return ExitCodes.Ok;
            var words = args[1..];
            var current = cword < words.Length ? words[cword] : "";
            foreach (var candidate in Candidates(words[..Math.Min(cword, words.Length)], current).Distinct())
                if (candidate.StartsWith(current, StringComparison.Ordinal)) Console.Out.WriteLine(candidate);
        }
        catch (Exception) { /* silent by design: a completion must never print an error into the command line */ }
        return ExitCodes.Ok;
    }

    /// <param name="before">the words before the one completed, the command's name first.</param>
    static IEnumerable<string> Candidates(string[] before, string current)
    {
        var name = Path.GetFileName(before[0]);
        string? subcommand = null;
        var rest = before[1..];
        if (name is "qomfs" or "qom")
        {
            if (rest.Length == 0) return current.StartsWith('-') ? ["--help", "--version"] : HelpText.Of(name, null).Commands().Keys;
            subcommand = rest[0];
            rest = rest[1..];
        }
        var help = HelpText.Of(name, subcommand);
        var options = help.Options();
        var (positionals, valueOf) = Split(rest, options);
        // An option's value (a socket, a file): the shell's file names.
        if (rest is [.., var last] && options.GetValueOrDefault(last) || rest is [.., var option, "="] && options.GetValueOrDefault(option)) return [];
        if (current.StartsWith('-')) return options.Keys;

        return (subcommand ?? name) switch
        {
            "qom-get" or "get" => Qom(valueOf, positionals, current, properties: true),
            "qom-set" or "set" => positionals.Count < 2 ? Qom(valueOf, positionals, current, properties: true) : [],
            "qom-list" or "list" or "qom-tree" or "tree" => positionals.Count == 0 ? Qom(valueOf, positionals, current, properties: false) : [],
            "qemu-ga-client" or "ga" => GaCommands(help, positionals),
            _ => [],
        };
    }

    /// <summary>The positionals, and the last value given to each option (by its long name when it has one).</summary>
    static (List<string>, Func<string, string?>) Split(string[] words, Dictionary<string, bool> options)
    {
        var positionals = new List<string>();
        var values = new Dictionary<string, string>();
        for (var i = 0; i < words.Length; i++)
        {
            var w = words[i];
            var eq = w.IndexOf('=');
            if (w.StartsWith("--", StringComparison.Ordinal) && eq > 0) values[w[..eq]] = w[(eq + 1)..];
            else if (options.GetValueOrDefault(w) && i + 1 < words.Length)
            {
                // bash splits --socket=X into the words --socket, = and X.
                if (words[++i] == "=" && i + 1 < words.Length) i++;
                values[w] = words[i];
            }
            else if (!w.StartsWith('-') && w != "=") positionals.Add(w);
        }
        return (positionals, option => values.GetValueOrDefault(option));
    }

    static IEnumerable<string> GaCommands(HelpText help, List<string> positionals)
    {
        var commands = help.Commands();
        if (positionals.Count == 0) return commands.Keys;
        return positionals.Count == 1 && commands.TryGetValue(positionals[0], out var choices) ? choices : [];
    }

    /// <summary>
    /// QOM paths (objects, as <c>PATH/</c>), and with <paramref name="properties"/> <c>PATH.PROPERTY</c> after a
    /// dot, or a property name as the second positional (PATH PROPERTY).
    /// </summary>
    static IEnumerable<string> Qom(Func<string, string?> valueOf, List<string> positionals, string current, bool properties)
    {
        var socket = valueOf("--socket") ?? valueOf("-s") ?? Environment.GetEnvironmentVariable("QMP_SOCKET");
        if (string.IsNullOrEmpty(socket) || (positionals.Count > 0 && !properties)) return [];
        var timeout = Seconds.Option(valueOf("--timeout"), TimeSpan.FromSeconds(3));
        var options = new QmpClientOptions { CommandTimeout = timeout, ConnectTimeout = timeout, ReaderThread = false };
        return Threading.ThreadPump.Run(async () =>
        {
            await using var qmp = await QmpClient.ConnectAsync(QmpAddress.Parse(socket), options);
            var qom = new QomClient(qmp);
            if (positionals.Count == 1)
                return (await qom.TryListAsync(positionals[0]) ?? []).Where(p => p.Kind == QomPropertyKind.Value).Select(p => p.Name).ToList();
            var candidates = new List<string>();
            var slash = current.LastIndexOf('/');
            if (slash < 0) return ["/"];
            var dir = slash == 0 ? "/" : current[..slash];
            var leaf = current[(slash + 1)..];
            foreach (var p in await qom.TryListAsync(dir) ?? [])
                if (p.Kind != QomPropertyKind.Value) candidates.Add($"{dir.TrimEnd('/')}/{p.Name}/");
            var dot = leaf.LastIndexOf('.');
            if (properties && dot >= 0)
            {
                var obj = $"{dir.TrimEnd('/')}/{leaf[..dot]}";
                foreach (var p in await qom.TryListAsync(obj) ?? [])
                    if (p.Kind == QomPropertyKind.Value) candidates.Add($"{obj}.{p.Name}");
            }
            return candidates;
        }).GetAwaiter().GetResult();
    }
}
