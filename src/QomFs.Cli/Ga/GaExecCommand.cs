using QomFs.Qmp.Qga;

namespace QomFs.Cli.Ga;

/// <summary>exec: guest-exec with captured output, polled to the end; our exit code is the guest program's.</summary>
static class GaExecCommand
{
    const string Usage = """
        usage: qemu-ga-client [OPTIONS] exec [--timeout S] [--env K=V]... [--stdin FILE] -- CMD [ARGS...]

        Runs CMD in the guest (guest-exec), waits up to S seconds (default 60) for it to exit, writes its stdout
        and stderr to ours and exits with its exit code (128+N when signal N killed it).
        """;

    /// <summary>guest-exec's input travels in one request: keep it well below what the agent's JSON parser takes.</summary>
    const int MaxStdinBytes = 16 * 1024 * 1024;

    public static async Task<int> Run(GaContext context, string[] args)
    {
        var parser = new ArgParser($"{context.Prog} exec", Usage.Replace("qemu-ga-client", context.Prog))
            .Value("", "--timeout").Value("", "--env").Value("", "--stdin");
        var parsed = parser.Parse(args, stopAtFirstPositional: true);
        if (parsed is null) return ExitCodes.Ok;
        if (parsed.Positionals.Count == 0) throw new UsageException($"exec: no command given (usage: {context.Prog} exec [--timeout S] [--env K=V] [--stdin FILE] -- CMD [ARGS...])");
        var runTimeout = Seconds.Option(parsed.Get("--timeout"), TimeSpan.FromSeconds(60));
        var env = parsed.GetAll("--env");
        foreach (var e in env)
            if (e.IndexOf('=') < 1) throw new UsageException($"exec: --env takes NAME=VALUE, not '{e}'");
        byte[]? stdin = null;
        if (parsed.Get("--stdin") is string input)
        {
            if (new FileInfo(input) is { Exists: true, Length: > MaxStdinBytes })
                throw new UsageException($"exec: {input} is larger than {MaxStdinBytes} bytes; copy it with 'put' instead");
            stdin = await File.ReadAllBytesAsync(input);
        }

        var client = await context.ConnectAsync();
        var result = await client.RunAsync(parsed.Positionals[0], parsed.Positionals[1..], env, stdin, runTimeout);
        if (context.Json)
        {
            GaContext.PrintJson(result.Status);
        }
        else
        {
            await using (var stdout = Console.OpenStandardOutput()) await stdout.WriteAsync(result.StdOut);
            await using (var stderr = Console.OpenStandardError()) await stderr.WriteAsync(result.StdErr);
            if (result.StdOutTruncated || result.StdErrTruncated)
                Console.Error.WriteLine($"{context.Prog}: the guest agent truncated the program's output");
        }
        return result.ShellExitCode;
    }
}
