using QomFs.Qmp;
using QomFs.Qmp.Qga;

namespace QomFs.Cli.Ga;

/// <summary>qemu-ga-client: the command line, the connection, and the table of commands.</summary>
static class GaCommand
{
    const string Usage = """
        usage: qemu-ga-client [--address ADDR] [--timeout SECONDS] [--json] COMMAND [ARGS]

        Talks to a QEMU guest agent (qemu-ga). ADDR is a unix socket path, host:port or vsock:CID:PORT, and
        defaults to $QGA_CLIENT_ADDRESS. The timeout (default 3 s) covers connecting, syncing and each command.
        --json prints the agent's JSON reply instead of text.

        commands:
          ping [TIMEOUT]                 check that the agent answers (within TIMEOUT seconds)
          info                           the agent's version and its enabled and disabled commands
          cat FILE                       write a guest file to stdout, byte for byte
          get GUESTFILE LOCALFILE        copy a file out of the guest
          put LOCALFILE GUESTFILE        copy a file into the guest
          exec [--timeout S] [--env K=V] [--stdin FILE] -- CMD [ARGS...]
                                         run a program in the guest, print its output, exit with its code
          fsfreeze status|freeze|thaw    freeze gets 60 s
          fstrim [MINIMUM]               discard unused blocks (gets 60 s)
          ifconfig                       the guest's network interfaces
          hostname, osinfo, users, fsinfo, time, timezone
          reboot, shutdown, powerdown, halt
          suspend disk|ram|hybrid

        exit status: 0 done; 1 the agent refused the command; 2 usage; 3 unreachable, timed out or a broken reply.
        exec exits with the guest program's exit code.
        """;

    delegate Task<int> Handler(GaContext context, string[] args);

    static readonly Dictionary<string, (Handler Run, string Args)> Commands = new()
    {
        ["ping"] = (GaInfoCommands.Ping, "[TIMEOUT]"),
        ["info"] = (GaInfoCommands.Info, ""),
        ["cat"] = (GaFileCommands.Cat, "FILE"),
        ["get"] = (GaFileCommands.Get, "GUESTFILE LOCALFILE"),
        ["put"] = (GaFileCommands.Put, "LOCALFILE GUESTFILE"),
        ["exec"] = (GaExecCommand.Run, "[--timeout S] [--env K=V] [--stdin FILE] -- CMD [ARGS...]"),
        ["fsfreeze"] = (GaInfoCommands.FsFreeze, "status|freeze|thaw"),
        ["fstrim"] = (GaInfoCommands.FsTrim, "[MINIMUM]"),
        ["ifconfig"] = (GaInfoCommands.Ifconfig, ""),
        ["hostname"] = (GaInfoCommands.Hostname, ""),
        ["osinfo"] = (GaInfoCommands.OsInfo, ""),
        ["users"] = (GaInfoCommands.Users, ""),
        ["fsinfo"] = (GaInfoCommands.FsInfo, ""),
        ["time"] = (GaInfoCommands.Time, ""),
        ["timezone"] = (GaInfoCommands.Timezone, ""),
        ["reboot"] = ((c, a) => GaPowerCommands.Shutdown(c, a, "reboot"), ""),
        ["shutdown"] = ((c, a) => GaPowerCommands.Shutdown(c, a, null), ""),
        ["powerdown"] = ((c, a) => GaPowerCommands.Shutdown(c, a, "powerdown"), ""),
        ["halt"] = ((c, a) => GaPowerCommands.Shutdown(c, a, "halt"), ""),
        ["suspend"] = (GaPowerCommands.Suspend, "disk|ram|hybrid"),
    };

    public static int Run(string prog, string[] args) => CommandRunner.Run(prog, async () =>
    {
        var parser = new ArgParser(prog, Usage).Value("", "--address").Value("", "--timeout").Flag("", "--json");
        var parsed = parser.Parse(args, stopAtFirstPositional: true);
        if (parsed is null) return ExitCodes.Ok;
        if (parsed.Positionals.Count == 0) throw new UsageException($"no command given (see '{prog} --help')");
        var name = parsed.Positionals[0];
        var rest = parsed.Positionals.Skip(1).ToArray();
        if (!Commands.TryGetValue(name, out var command))
            throw new UsageException($"unknown command '{name}' (commands: {string.Join(", ", Commands.Keys)})");
        if (name != "exec" && rest is ["-h" or "--help"])
        {
            Console.Out.WriteLine($"usage: {prog} [OPTIONS] {name} {command.Args}".TrimEnd());
            return ExitCodes.Ok;
        }
        // The options may follow the command too, as with upstream's argparse (`ping --address SOCK`); not exec's,
        // whose own options and the guest's command line follow it.
        if (name != "exec" && rest.Any(a => a.StartsWith('-')))
        {
            if (parser.Parse(rest) is not { } after) return ExitCodes.Ok;
            foreach (var option in (string[])["--address", "--timeout", "--json"])
                foreach (var value in after.GetAll(option)) parsed.Set(option, value);
            rest = [.. after.Positionals];
        }
        var context = new GaContext(prog, name, command.Args, parsed.Get("--address"),
            Seconds.Option(parsed.Get("--timeout"), QgaClientOptions.Default.Timeout), parsed.Has("--json"));
        try
        {
            return await command.Run(context, rest);
        }
        catch (QmpCommandException e) when (e.ErrorClass is QgaClient.DisabledErrorClass or "CommandNotFound")
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"{prog}: {e.Description}");
            return ExitCodes.Refused;
        }
        finally { context.Dispose(); }
    });
}

/// <summary>What every command gets: the options, and a connection made on first use.</summary>
sealed class GaContext(string prog, string command, string argsUsage, string? address, TimeSpan timeout, bool json) : IDisposable
{
    QgaClient? _client;

    public string Prog => prog;
    public TimeSpan Timeout => timeout;
    public bool Json => json;

    public async Task<QgaClient> ConnectAsync(TimeSpan? timeoutOverride = null)
    {
        if (_client is not null) return _client;
        var peer = PeerAddress.From(address, "QGA_CLIENT_ADDRESS", "--address", "guest agent address");
        var options = new QgaClientOptions { Timeout = timeoutOverride ?? timeout };
        return _client = await QgaClient.ConnectAsync(peer, options);
    }

    /// <summary>Checks the number of arguments against the command's usage.</summary>
    public void Arity(string[] args, int min, int max)
    {
        if (args.Length < min || args.Length > max)
            throw new UsageException($"usage: {prog} {command} {argsUsage}".TrimEnd());
    }

    public UsageException Wrong(string what) => new($"{command}: {what} (usage: {prog} {command} {argsUsage})");

    /// <summary>--json: the agent's reply as it sent it.</summary>
    public static void PrintJson(QmpResult result) => Console.Out.WriteLine(result.ToString());

    public void Dispose() => _client?.Dispose();
}
