using QomFs.Qmp;
using QomFs.Qom;

namespace QomFs.Cli;

/// <summary>What the qom-* commands share: the -s/--socket option and a connection to QEMU.</summary>
static class QomSession
{
    public static ArgParser Parser(string prog, string usage) =>
        new ArgParser(prog, usage).Value("-s", "--socket").Value("", "--timeout");

    public const string SocketHelp =
        "  -s, --socket ADDR  QMP socket: a unix path, host:port or [v6addr]:port (default: $QMP_SOCKET)\n" +
        "  --timeout SECONDS  per-command timeout (default: 3)\n" +
        "  -h, --help         this help";

    public static async Task<QomClient> ConnectAsync(ParsedArgs args)
    {
        var address = CommandRunner.QmpAddressFrom(args);
        var timeout = CommandRunner.Seconds(args.Get("--timeout"), TimeSpan.FromSeconds(3));
        var qmp = await QmpClient.ConnectAsync(address, new QmpClientOptions { CommandTimeout = timeout, ConnectTimeout = timeout });
        return new QomClient(qmp);
    }

    /// <summary>PATH.PROPERTY (split by asking QEMU) or PATH PROPERTY.</summary>
    public static async Task<(string Path, string Property, QomProperty? Info)> TargetAsync(QomClient qom, string prog, List<string> positionals)
    {
        if (positionals.Count >= 2) return (positionals[0], positionals[1], null);
        var dotted = positionals[0];
        var resolved = await qom.ResolveDottedAsync(dotted);
        if (resolved is { } r) return (r.Path, r.Property.Name, r.Property);

        // No split names an existing property: use the last dot, so that QEMU's own error says what is missing.
        var dot = dotted.LastIndexOf('.');
        if (dot <= dotted.LastIndexOf('/') || dot == dotted.Length - 1)
            throw new UsageException($"'{dotted}' names no property: give PATH.PROPERTY or PATH PROPERTY (see '{prog} --help')");
        return (dotted[..dot], dotted[(dot + 1)..], null);
    }

    /// <summary>
    /// Gets PATH.PROPERTY or PATH PROPERTY. The dotted form first tries the rightmost split with a plain qom-get,
    /// which is what the right-to-left search would find first, and searches only when that fails: one command in
    /// the common case.
    /// </summary>
    public static async Task<QmpResult> GetAsync(QomClient qom, string prog, List<string> positionals)
    {
        if (positionals.Count == 1)
        {
            var dotted = positionals[0];
            var dot = dotted.LastIndexOf('.');
            if (dot > dotted.LastIndexOf('/') && dot > 0 && dot < dotted.Length - 1)
            {
                try { return await qom.GetAsync(dotted[..dot], dotted[(dot + 1)..]); }
                catch (QmpCommandException) { /* maybe the dot belongs to a name: search */ }
            }
        }
        var (path, property, _) = await TargetAsync(qom, prog, positionals);
        return await qom.GetAsync(path, property);
    }

    public static void WriteStdout(ReadOnlySpan<byte> bytes)
    {
        using var stdout = Console.OpenStandardOutput();
        stdout.Write(bytes);
    }
}
