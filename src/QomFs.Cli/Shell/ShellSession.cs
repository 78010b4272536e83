using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using QomFs.Qmp;

namespace QomFs.Cli.Shell;

/// <summary>
/// What one input line produced: text for stdout and stderr, whether it failed, a lost connection, and the reply
/// for the -l log (logged by the loop when it shows the outcome, so the log has the order the screen has).
/// </summary>
sealed record Outcome(string Out, string Err, bool Failed, Exception? Lost = null, JsonElement? Logged = null)
{
    public static Outcome Error(string message, JsonElement? logged = null) => new("", message + "\n", true, Logged: logged);
}

/// <summary>
/// Turns input lines into QMP commands and their replies into <see cref="Outcome"/>s; writes the -l log. The loop
/// calls <see cref="Start"/> on its own thread and prints an outcome when its task completes.
/// </summary>
sealed class ShellSession(QmpClient client, ShellOptions options, ShellOutput output, ShellLog? log)
{
    readonly ShellSyntax _syntax = new();
    int _cpuIndex;

    public ShellSyntax Syntax => _syntax;

    public string Prompt => _syntax.InTransaction ? "TRANS> " : "(QEMU) ";

    /// <summary>Starts what a line asks for; null when it asks for nothing (blank, comment, a cached transaction action).</summary>
    public Task<Outcome>? Start(string line, CancellationToken cancel)
    {
        if (options.Hmp) return line.Trim().Length == 0 ? null : HmpAsync(line.Trim(), cancel);
        ShellRequest? request;
        try { request = _syntax.Parse(line); }
        catch (ShellSyntaxException e)
        {
            return Task.FromResult(Outcome.Error($"Error: {e.Message}\n(format: COMMAND [KEY=VALUE ...], or a JSON object)"));
        }
        if (request is null) return null;
        var sent = ShellOutput.Command(request);
        if (options.Verbose) output.Out(output.Format(sent) + "\n");
        log?.Write(sent);
        return QmpAsync(request, cancel);
    }

    async Task<Outcome> QmpAsync(ShellRequest request, CancellationToken cancel)
    {
        try
        {
            var result = await client.ExecuteAsync(request.Execute, request.Arguments, options.Timeout, cancel);
            var reply = ShellOutput.Reply(result, request.UserId);
            return new Outcome(output.Format(reply) + "\n", "", false, Logged: reply);
        }
        catch (Exception e) when (Failure(e, request.UserId) is { } outcome) { return outcome; }
    }

    async Task<Outcome> HmpAsync(string line, CancellationToken cancel)
    {
        var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var cpu = _cpuIndex;
        if (words[0] == "cpu")
        {
            // As upstream: check the index with a harmless command, then use it for every later command.
            if (words.Length != 2 || !int.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out cpu))
                return Outcome.Error("Error: cpu takes one integer argument, the CPU index");
            try { await Hmp("info version", cpu, cancel, echo: false); }
            catch (QmpCommandException) { return Outcome.Error($"Error: bad CPU index {cpu}"); }
            catch (Exception e) when (Failure(e, null) is { } outcome) { return outcome; }
            _cpuIndex = cpu;
        }
        try
        {
            var (value, reply) = await Hmp(line, cpu, cancel, echo: true);
            var text = value.Replace("\r\n", "\n");
            return new Outcome(text.Length == 0 || text.EndsWith('\n') ? text : text + "\n", "", false, Logged: reply);
        }
        catch (Exception e) when (Failure(e, null) is { } outcome) { return outcome; }
    }

    /// <summary>Runs an HMP command line: its text output and the reply for the log. Echoed and logged as sent when <paramref name="echo"/>.</summary>
    async Task<(string Text, JsonElement Reply)> Hmp(string line, int cpu, CancellationToken cancel, bool echo)
    {
        var request = new ShellRequest("human-monitor-command", new JsonObject { ["command-line"] = line, ["cpu-index"] = cpu }, null);
        if (echo)
        {
            var sent = ShellOutput.Command(request);
            if (options.Verbose) output.Out(output.Format(sent) + "\n");
            log?.Write(sent);
        }
        var result = await client.ExecuteAsync(request.Execute, request.Arguments, options.Timeout, cancel);
        var value = result.ToElement();
        return (value.ValueKind == JsonValueKind.String ? value.GetString()! : output.Format(value), ShellOutput.Reply(result, null));
    }

    /// <summary>Every failure of a command as an outcome; null for a bug, which should surface.</summary>
    Outcome? Failure(Exception e, JsonNode? userId)
    {
        switch (e)
        {
            case QmpCommandException c:
                return Outcome.Error($"Error: {c.ErrorClass}: {c.Description}", ShellOutput.Error(c.ErrorClass, c.Description, userId));
            case QmpTimeoutException t:
                return Outcome.Error($"Error: timeout: {t.Message}");
            case OperationCanceledException:
                return Outcome.Error("Error: interrupted (a reply that comes later is dropped)");
            case QmpException q:
                return new Outcome("", "", true, q);
            default:
                return null;
        }
    }

    /// <summary>Logs the reply of an outcome that is about to be shown.</summary>
    public void LogOutcome(Outcome o)
    {
        if (o.Logged is { } reply) log?.Write(reply);
    }

    /// <summary>An event goes to the log as QEMU sent it.</summary>
    public void LogEvent(QmpEvent e)
    {
        if (log is null) return;
        log.Write(e.ToElement());
    }
}
