using QomFs.Qmp;
using QomFs.Testing;

namespace QomFs.Cli.Tests.Shell;

/// <summary>The interactive shell in a real terminal (tmux), against each real QEMU.</summary>
[Category(Needs.Qemu), Category(Needs.Binary)]
[Parallelizable(ParallelScope.None)]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class ShellTerminalTests(QemuPeer peer)
{
    QemuProcess _qemu = null!;
    Tmux _tmux = null!;
    string _home = null!;

    [SetUp]
    public void Start()
    {
        _qemu = QemuProcess.Start(peer);
        _tmux = new Tmux();
        _home = TempPaths.NewDirectory("home");
    }

    [TearDown]
    public void Stop()
    {
        _tmux.Dispose();
        _qemu.Dispose();
        try { Directory.Delete(_home, recursive: true); } catch (IOException) { }
    }

    void StartShell()
    {
        _tmux.Start($"env HOME={_home} INPUTRC=/dev/null {Qomfs.Named("qmp-shell")} {_qemu.QmpSocket}");
        _tmux.WaitFor(s => s.EndsWith("(QEMU)"), "the prompt");
    }

    [Test]
    public void ShowsTheBannerAndThePrompt()
    {
        StartShell();
        var screen = _tmux.Screen();
        Assert.That(screen, Does.StartWith($"Welcome to the QMP low-level shell!\nConnected to QEMU {peer.Major}."));
        Assert.That(_tmux.LastLine(), Is.EqualTo("(QEMU)"));
    }

    [Test]
    public void TabCompletesACommandName()
    {
        StartShell();
        _tmux.Type("query-nam");
        _tmux.SendKeys("Tab");
        _tmux.WaitFor(s => s.EndsWith("(QEMU) query-name"), "the completed command name");
        _tmux.SendKeys("Enter");
        _tmux.WaitForText("{\"return\":{}}");
    }

    [Test]
    public void TabCompletesArgumentNames()
    {
        StartShell();
        _tmux.Type("qom-get pa");
        _tmux.SendKeys("Tab");
        _tmux.WaitFor(s => s.EndsWith("(QEMU) qom-get path="), "path= completed from the schema");
        _tmux.Type("/machine pro");
        _tmux.SendKeys("Tab");
        _tmux.WaitFor(s => s.EndsWith("(QEMU) qom-get path=/machine property="), "property= completed");
        _tmux.Type("type");
        _tmux.SendKeys("Enter");
        _tmux.WaitForText("{\"return\":\"pc-q35-");
    }

    [Test]
    public async Task EventsShowWhileTypingAndTheLineSurvives()
    {
        StartShell();
        _tmux.Type("query-sta");
        _tmux.WaitFor(s => s.EndsWith("(QEMU) query-sta"), "the typed text");

        await using var other = await QmpClient.ConnectAsync(QmpAddress.Parse(_qemu.SecondSocket));
        await other.ExecuteAsync("cont");
        _tmux.WaitForText("\"event\":\"RESUME\"");
        await other.ExecuteAsync("stop");
        _tmux.WaitForText("\"event\":\"STOP\"");

        var lines = _tmux.Screen().Split('\n');
        var stop = Array.FindLastIndex(lines, l => l.Contains("\"event\":\"STOP\""));
        Assert.That(lines[stop], Does.Match(@"^\[\d\d:\d\d:\d\d\.\d{6}\] \{""timestamp"":\{""seconds"":\d+,""microseconds"":\d+\},""event"":""STOP""\}$"));
        Assert.That(lines[stop + 1], Is.EqualTo("(QEMU) query-sta"), "the partly typed line is redrawn under the events");
        Assert.That(lines.Count(l => l.StartsWith("(QEMU)")), Is.EqualTo(1), "no stale copies of the prompt");

        _tmux.Type("tus");
        _tmux.SendKeys("Enter");
        _tmux.WaitForText("\"status\":\"paused\"");
    }

    [Test]
    public void HistorySurvivesARestartAndCtrlDExitsCleanly()
    {
        StartShell();
        _tmux.Type("query-name");
        _tmux.SendKeys("Enter");
        _tmux.WaitForText("{\"return\":{}}");
        _tmux.SendKeys("C-d");
        _tmux.WaitForText("[exit 0]");
        Assert.That(File.ReadAllLines(Path.Combine(_home, ".qmp-shell_history")), Does.Contain("query-name"));

        StartShell(); // a new session in the same private tmux server
        _tmux.SendKeys("Up");
        _tmux.WaitFor(s => s.EndsWith("(QEMU) query-name"), "the previous session's command from history");
    }
}
