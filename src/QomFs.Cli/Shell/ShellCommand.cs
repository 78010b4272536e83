using QomFs.Qmp;

namespace QomFs.Cli.Shell;

sealed record ShellOptions(bool Hmp, bool Verbose, bool Pretty, string? LogFile, bool SkipNegotiation, TimeSpan Timeout);

/// <summary>qmp-shell (and <c>qomfs shell</c>): an interactive QMP shell, and a line-at-a-time one for scripts.</summary>
static class ShellCommand
{
    const string Usage = """
        usage: qmp-shell [-H|--hmp] [-v|--verbose] [-p|--pretty] [-l|--logfile FILE] [-N|--skip-negotiation]
                         [--timeout S] [ADDRESS]

        An interactive QMP shell. ADDRESS is a unix socket path, HOST:PORT, vsock:CID:PORT, or a libvirt domain,
        libvirt:DOMAIN or libvirt:URI#DOMAIN (e.g. libvirt:qemu:///system#web1); without it, $QMP_SOCKET.

          -H, --hmp               send each line to the human monitor (human-monitor-command); 'cpu N' picks the CPU
          -v, --verbose           echo each command as it is sent
          -p, --pretty            indent replies and events, with keys sorted
          -l, --logfile FILE      log every command, reply and event as JSON lines
          -N, --skip-negotiation  no greeting or qmp_capabilities: for a guest agent
              --timeout S         seconds to wait for each reply (default 30)

        Input: COMMAND [KEY=VALUE ...] (dotted keys nest), a JSON object, or transaction( ACTION ... ).
        When standard input is not a terminal: no banner or prompt, one command a line, exit 1 if any failed.
        """;

    public static int Run(string prog, string[] argv) => CommandRunner.Run(prog, async () =>
    {
        var args = new ArgParser(prog, Usage)
            .Flag("-H", "--hmp").Flag("-v", "--verbose").Flag("-p", "--pretty").Value("-l", "--logfile")
            .Flag("-N", "--skip-negotiation").Value("", "--timeout")
            .Parse(argv);
        if (args is null) return ExitCodes.Ok;
        if (args.Positionals.Count > 1) throw new UsageException($"expected one ADDRESS (see '{prog} --help')");
        var address = PeerAddress.ThroughMount(PeerAddress.From(args.Positionals.Count == 1 ? args.Positionals[0] : null, "QMP_SOCKET", "ADDRESS", "QMP address"));
        var options = new ShellOptions(args.Has("--hmp"), args.Has("--verbose"), args.Has("--pretty"), args.Get("--logfile"),
            args.Has("--skip-negotiation"), Seconds.Option(args.Get("--timeout"), TimeSpan.FromSeconds(30)));

        // Opened before connecting, as upstream: a log that cannot be written is known before QEMU is taken.
        using var log = options.LogFile is null ? null : new ShellLog(options.LogFile);
        var interactive = LibC.IsTerminal(0);
        await using var client = await QmpClient.ConnectAsync(address, new QmpClientOptions
        {
            Negotiate = !options.SkipNegotiation,
            CommandTimeout = options.Timeout,
        });
        var output = new ShellOutput(options.Pretty);
        var session = new ShellSession(client, options, output, log);
        using var loop = new ShellLoop(client, session, output, interactive);
        if (interactive && !OperatingSystem.IsWindows())
        {
            output.Out(options.Hmp ? "Welcome to the HMP shell!\n" : "Welcome to the QMP low-level shell!\n");
            output.Out(client.Greeting is { } g ? $"Connected to QEMU {g.Major}.{g.Minor}.{g.Micro}\n\n" : "Connected\n\n");
            loop.EnableLineEditing(new ShellCompletion(client, options.Hmp, () => session.Syntax.InTransaction));
        }
        return loop.Run();
    });
}
