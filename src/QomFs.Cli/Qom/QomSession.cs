using QomFs.Qmp;
using QomFs.Qom;

namespace QomFs.Cli.Qom;

/// <summary>What the qom-* commands share: their options, the connection to QEMU, and PATH.PROPERTY.</summary>
static class QomSession
{
    const string SocketHelp =
        "  -s, --socket ADDR  QMP socket: a unix path, host:port, [v6addr]:port, vsock:CID:PORT, or a libvirt\n" +
        "                     domain, libvirt:DOMAIN or libvirt:URI#DOMAIN (default: $QMP_SOCKET)\n" +
        "  --timeout SECONDS  per-command timeout (default: 3)\n" +
        "  -h, --help         this help";

    /// <summary>
    /// Runs a qom-* command: parses -s/--socket and --timeout, checks that there are <paramref name="min"/> to
    /// <paramref name="max"/> positionals, connects, runs <paramref name="body"/>, and closes the connection.
    /// </summary>
    /// <param name="pipelined">true for a body that keeps several commands in flight (qom-tree): it gets the
    /// client's reader thread; the others read their replies on the main thread and start no thread at all.</param>
    public static int Run(string prog, string[] argv, string usage, int min, int max, string expected,
        Func<QomClient, List<string>, Task> body, bool pipelined = false) => CommandRunner.RunOnThisThread(prog, async () =>
    {
        var args = new ArgParser(prog, usage + SocketHelp).Value("-s", "--socket").Value("", "--timeout").Parse(argv);
        if (args is null) return ExitCodes.Ok;
        if (args.Positionals.Count < min || args.Positionals.Count > max)
            throw new UsageException($"expected {expected} (see '{prog} --help')");

        var address = PeerAddress.ThroughMount(PeerAddress.QmpSocket(args.Get("--socket")));
        var timeout = Seconds.Option(args.Get("--timeout"), TimeSpan.FromSeconds(3));
        var options = new QmpClientOptions { CommandTimeout = timeout, ConnectTimeout = timeout, ReaderThread = pipelined };
        await using var qmp = await QmpClient.ConnectAsync(address, options);
        await body(new QomClient(qmp), args.Positionals);
        return ExitCodes.Ok;
    });

    /// <summary>
    /// Gets PATH.PROPERTY or PATH PROPERTY. The dotted form first tries the last dot with a plain qom-get, which is
    /// what the right-to-left search would find first, and searches only when that fails: one command in the
    /// common case. When no other split names a property, QEMU's answer to the first try stands.
    /// </summary>
    public static async Task<QmpResult> GetAsync(QomClient qom, string prog, List<string> positionals)
    {
        if (positionals.Count == 2) return await qom.GetAsync(positionals[0], positionals[1]);
        var dotted = positionals[0];
        var (path, property) = LastDot(dotted, prog);
        QmpCommandException refused;
        try { return await qom.GetAsync(path, property); }
        catch (QmpCommandException e) { refused = e; }

        // Maybe the dot belongs to a name (sse4.2, pc.ram): search.
        if (await qom.ResolveDottedAsync(dotted) is not { } r || (r.Path, r.Property.Name) == (path, property)) throw refused;
        return await qom.GetAsync(r.Path, r.Property.Name);
    }

    /// <summary>
    /// The target of a set: PATH.PROPERTY (split by asking QEMU) or PATH PROPERTY, with the property's qom-list
    /// entry when it exists (its type steers the conversion).
    /// </summary>
    public static async Task<(string Path, string Property, QomProperty? Info)> SetTargetAsync(QomClient qom, string prog, List<string> positionals)
    {
        if (positionals.Count == 2)
        {
            var listing = await qom.TryListAsync(positionals[0]);
            return (positionals[0], positionals[1], listing?.FirstOrDefault(p => p.Name == positionals[1]));
        }
        if (await qom.ResolveDottedAsync(positionals[0]) is { } r) return (r.Path, r.Property.Name, r.Property);

        // No split names an existing property (each candidate was listed already): the last dot, with no type.
        var (path, property) = LastDot(positionals[0], prog);
        return (path, property, null);
    }

    static (string Path, string Property) LastDot(string dotted, string prog)
    {
        var dot = dotted.LastIndexOf('.');
        if (dot <= dotted.LastIndexOf('/') || dot == 0 || dot == dotted.Length - 1)
            throw new UsageException($"'{dotted}' names no property: give PATH.PROPERTY or PATH PROPERTY (see '{prog} --help')");
        return (dotted[..dot], dotted[(dot + 1)..]);
    }

    public static void WriteStdout(ReadOnlySpan<byte> bytes)
    {
        using var stdout = new Stdout();
        stdout.Write(bytes);
    }
}
