using QomFs.Testing;

namespace QomFs.Cli.Tests.Shell;

/// <summary>
/// A real terminal for the interactive shell: a private tmux server (its own -L socket name), one session per
/// program run. Dispose kills that server and nothing else.
/// </summary>
sealed class Tmux : IDisposable
{
    readonly string _tmux = Require.Tool("tmux", "the interactive shell is driven through a real terminal");
    readonly string _server = "qs-" + Guid.NewGuid().ToString("N")[..12];
    // The server's socket goes in a directory of its own, removed on dispose.
    readonly string _socketDirectory = TempPaths.NewDirectory("tmux");
    int _sessions;

    public string Session { get; private set; } = "";

    /// <summary>Runs a command line in a new 200x50 session; when it ends, the pane shows "[exit N]" and stays.</summary>
    public void Start(string commandLine)
    {
        Session = "s" + _sessions++;
        var args = new List<string> { "-L", _server, "-f", "/dev/null", "new-session", "-d", "-s", Session, "-x", "200", "-y", "50" };
        args.Add($"{commandLine}; echo \"[exit $?]\"; exec sleep 600");
        Run(args);
    }

    public void SendKeys(params string[] keys) => Run(["-L", _server, "send-keys", "-t", Session, .. keys]);

    /// <summary>Types text literally (no key names).</summary>
    public void Type(string text) => Run(["-L", _server, "send-keys", "-t", Session, "-l", text]);

    public string Screen() => Run(["-L", _server, "capture-pane", "-p", "-J", "-t", Session]).TrimEnd();

    /// <summary>The last non-empty line on the screen: the line being edited.</summary>
    public string LastLine() => Screen().Split('\n').LastOrDefault(l => l.Trim().Length > 0)?.TrimEnd() ?? "";

    public void WaitFor(Func<string, bool> condition, string what, double seconds = 10)
    {
        string screen = "";
        try { Wait.Until(() => condition(screen = Screen()), TimeSpan.FromSeconds(seconds), what); }
        catch (AssertionException) { Assert.Fail($"timed out waiting for {what}; the screen:\n{screen}"); }
    }

    public void WaitForText(string text, double seconds = 10) => WaitFor(s => s.Contains(text), $"'{text}' on the screen", seconds);

    string Run(IEnumerable<string> args)
    {
        var r = ProcessRunner.Run(_tmux, args, TimeSpan.FromSeconds(10), env: Env);
        if (r.ExitCode != 0) Assert.Fail($"tmux {string.Join(' ', args)} failed: {r.StdErr}");
        return r.StdOut;
    }

    Dictionary<string, string?> Env => new() { ["TMUX_TMPDIR"] = _socketDirectory, ["TMUX"] = null };

    public void Dispose()
    {
        ProcessRunner.Run(_tmux, ["-L", _server, "kill-server"], TimeSpan.FromSeconds(10), env: Env);
        try { Directory.Delete(_socketDirectory, recursive: true); } catch (IOException) { }
    }
}
