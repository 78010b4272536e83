using System.Text;
using System.Text.Json;
using QomFs.Testing;

namespace QomFs.Cli.Tests.Shell;

/// <summary>qmp-shell with standard input from a pipe, against each real QEMU: every input rule, output, exit codes.</summary>
[Category(Needs.Qemu), Category(Needs.Binary)]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class ShellPipedTests(QemuPeer peer)
{
    QemuProcess _qemu = null!;

    // One QEMU for the fixture, with a block node for transactions. Tests use distinct names for what they create.
    [OneTimeSetUp] public void Start() => _qemu = QemuProcess.Start(peer, "-blockdev", "driver=null-co,node-name=drive0,size=1048576");
    [OneTimeTearDown] public void Stop() => _qemu.Dispose();

    ProcessResult Shell(string input, params string[] options) =>
        Qomfs.Run("qmp-shell", [.. options, _qemu.QmpSocket], TimeSpan.FromSeconds(20), Encoding.UTF8.GetBytes(input));

    static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Test]
    public void PipedInputHasNoBannerNoPromptAndPrintsEachReply()
    {
        var r = Shell("query-name\n\n# a comment\nquery-status\n");
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        var lines = Lines(r.StdOut);
        Assert.That(lines, Has.Length.EqualTo(2), r.StdOut);
        Assert.That(lines[0], Is.EqualTo("{\"return\":{}}"));
        Assert.That(lines[1], Does.StartWith("{\"return\":{\"status\":"));
        Assert.That(r.StdOut, Does.Not.Contain("(QEMU)").And.Not.Contain("Welcome"));
    }

    [Test]
    public void ValuesAreTyped()
    {
        // -v shows exactly what was sent; the command does not exist, so QEMU refuses it after it arrived.
        var r = Shell("no-such n=42 neg=-7 z=007 big=18446744073709551615 f=1.5 e=2e3 t=true T=FALSE nl=null "
                      + "s=plain q=\"42\" sp=\"a b\" sq='it \"is\"' empty= o={\"k\": [1, \"x y\"]} a=[1,2]\n", "-v");
        Assert.That(Lines(r.StdOut)[0], Is.EqualTo(
            "{\"execute\":\"no-such\",\"arguments\":{\"n\":42,\"neg\":-7,\"z\":7,\"big\":18446744073709551615,\"f\":1.5,\"e\":2e3,"
            + "\"t\":true,\"T\":false,\"nl\":null,\"s\":\"plain\",\"q\":\"42\",\"sp\":\"a b\",\"sq\":\"it \\\"is\\\"\",\"empty\":\"\","
            + "\"o\":{\"k\":[1,\"x y\"]},\"a\":[1,2]}}"));
        Assert.That(r.StdErr, Does.Contain("Error: CommandNotFound: The command no-such has not been found"));
        Assert.That(r.ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void TypedValuesAreAcceptedByQemu()
    {
        var r = Shell("object-add qom-type=memory-backend-ram id=ram-typed size=1048576 share=true\n"
                      + "qom-get path=/objects/ram-typed property=size\n"
                      + "qom-get path=/objects/ram-typed property=share\n"
                      + "human-monitor-command command-line=\"info version\"\n");
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        var lines = Lines(r.StdOut);
        Assert.That(lines[..3], Is.EqualTo(new[] { "{\"return\":{}}", "{\"return\":1048576}", "{\"return\":true}" }));
        Assert.That(lines[3], Does.StartWith($"{{\"return\":\"{peer.Major}."), "a quoted string with a space arrives as one string, without quotes");
    }

    [Test]
    public void DottedKeysNestAndJsonObjectsWork()
    {
        var r = Shell("blockdev-add driver=null-co node-name=dotted cache.direct=false cache.no-flush=true\n"
                      + "blockdev-add driver=null-co node-name=json cache={\"direct\": false, \"no-flush\": true}\n"
                      + "blockdev-del node-name=dotted\nblockdev-del node-name=json\n", "-v");
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        var lines = Lines(r.StdOut);
        Assert.That(lines[0], Is.EqualTo("{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"dotted\",\"cache\":{\"direct\":false,\"no-flush\":true}}}"));
        Assert.That(lines.Count(l => l == "{\"return\":{}}"), Is.EqualTo(4));
    }

    [TestCase("x a=1 a.b=2", "'a' is used both as a value and as a parent")]
    [TestCase("x a.b=2 a=1", "'a' is used both as a value and as a parent")]
    [TestCase("x a=1 a=2", "'a' is given more than once")]
    [TestCase("x novalue", "expected key=value, got 'novalue'")]
    [TestCase("x s=\"open", "unterminated \" quote")]
    [TestCase("x o={\"k\":", "'{\"k\":' is not valid JSON")]
    [TestCase(")", "')' without 'transaction('")]
    [TestCase("{\"execute\": 1}", "\"execute\" must be a string")]
    public void MalformedLinesAreErrorsAndSendNothing(string line, string message)
    {
        var r = Shell(line + "\nquery-name\n", "-v");
        Assert.That(r.StdErr, Does.Contain("Error: " + message));
        Assert.That(Lines(r.StdOut), Is.EqualTo(new[] { "{\"execute\":\"query-name\"}", "{\"return\":{}}" }), "only the good line was sent");
        Assert.That(r.ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void AJsonObjectLineIsSentAsItIsAndItsIdComesBack()
    {
        var r = Shell("{ \"execute\": \"qom-get\", \"arguments\": { \"path\": \"/machine\", \"property\": \"type\" }, \"id\": \"mine\" }\n", "-v");
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        Assert.That(Lines(r.StdOut), Is.EqualTo(new[]
        {
            "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/machine\",\"property\":\"type\"}}",
            $"{{\"return\":\"{peer.Q35MachineType}\",\"id\":\"mine\"}}",
        }));
    }

    [Test]
    public void MultiLineTransactionRunsAllItsActions()
    {
        var r = Shell("transaction(\nblock-dirty-bitmap-add node=drive0 name=t1\nblock-dirty-bitmap-add node=drive0 name=t2 persistent=false\n)\n"
                      + "block-dirty-bitmap-remove node=drive0 name=t1\nblock-dirty-bitmap-remove node=drive0 name=t2\n", "-v");
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        var lines = Lines(r.StdOut);
        Assert.That(lines[0], Is.EqualTo("{\"execute\":\"transaction\",\"arguments\":{\"actions\":["
            + "{\"type\":\"block-dirty-bitmap-add\",\"data\":{\"node\":\"drive0\",\"name\":\"t1\"}},"
            + "{\"type\":\"block-dirty-bitmap-add\",\"data\":{\"node\":\"drive0\",\"name\":\"t2\",\"persistent\":false}}]}}"));
        Assert.That(lines.Count(l => l == "{\"return\":{}}"), Is.EqualTo(3), "the transaction and both removals succeeded");
    }

    [Test]
    public void OneLineTransactionAndAtomicity()
    {
        // The one-line form holds one action. A transaction with an abort adds nothing: removing t4 then fails.
        var r = Shell("transaction( block-dirty-bitmap-add node=drive0 name=t3 )\nblock-dirty-bitmap-remove node=drive0 name=t3\n"
                      + "transaction(\nblock-dirty-bitmap-add node=drive0 name=t4\nabort )\nblock-dirty-bitmap-remove node=drive0 name=t4\n");
        var lines = Lines(r.StdOut);
        Assert.That(lines, Is.EqualTo(new[] { "{\"return\":{}}", "{\"return\":{}}" }), r.StdErr);
        Assert.That(r.StdErr, Does.Contain("Error: GenericError: Transaction aborted using Abort action"));
        Assert.That(r.StdErr, Does.Contain("Error: GenericError: Dirty bitmap 't4' not found"));
        Assert.That(r.ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void TransactionRulesFromUpstream()
    {
        var r = Shell("transaction(\nabort\n) junk\n)\ntransaction(\n", "-v");
        Assert.That(r.StdErr, Does.Contain("Error: unexpected input after the ')' that closes the transaction"));
        Assert.That(r.StdErr, Does.Contain("Error: the input ended inside a transaction: nothing was sent"));
        Assert.That(Lines(r.StdOut)[0], Is.EqualTo("{\"execute\":\"transaction\",\"arguments\":{\"actions\":[{\"type\":\"abort\",\"data\":{}}]}}"),
            "the transaction stayed open after the bad ')' and the next ')' closed it");
        Assert.That(r.ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void HmpModeRunsHumanCommandsAndCpuSwitches()
    {
        var r = Shell("info version\ncpu 0\ninfo cpus\n", "-H");
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        Assert.That(r.StdOut, Does.StartWith($"{peer.Major}.{peer.Minor}."));
        Assert.That(r.StdOut, Does.Contain("* CPU #0:"));

        var bad = Shell("cpu 99\n", "-H");
        Assert.That(bad.StdErr, Does.Contain("Error: bad CPU index 99"));
        Assert.That(bad.ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void PrettyOutputIsIndentedWithSortedKeys()
    {
        var r = Shell("query-status\n", "-p");
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        // query-status lost its singlestep member in QEMU 8.1.
        var singlestep = peer.Major < 8 ? "        \"singlestep\": false,\n" : "";
        Assert.That(r.StdOut, Does.Match("^\\{\n    \"return\": \\{\n        \"running\": (true|false),\n" + singlestep + "        \"status\": \"[a-z-]+\"\n    \\}\n\\}\n$"));
    }

    [Test]
    public void ALogFileThatCannotBeOpenedIsNamedWithTheSystemsReason()
    {
        var directory = TempPaths.NewDirectory("log");
        var missing = Path.Combine(directory, "no-such-dir", "shell.log");
        var r = Shell("query-name\n", "-l", missing);
        Assert.That((r.ExitCode, r.StdOut, r.StdErr), Is.EqualTo((1, "", $"qmp-shell: cannot open log file {missing}: No such file or directory\n")));
        r = Shell("query-name\n", "-l", directory);
        Assert.That(r.StdErr, Is.EqualTo($"qmp-shell: cannot open log file {directory}: Is a directory\n"));
        Directory.Delete(directory, recursive: true);
    }

    [Test]
    public void LogFileHasEveryCommandAndReplyAsJsonLines()
    {
        var directory = TempPaths.NewDirectory("log");
        var log = Path.Combine(directory, "shell.log");
        var r = Shell("query-name\nno-such\n", "-l", log);
        Assert.That(r.ExitCode, Is.EqualTo(1));
        var lines = File.ReadAllLines(log);
        Assert.That(lines, Is.EqualTo(new[]
        {
            "{\"execute\":\"query-name\"}",
            "{\"return\":{}}",
            "{\"execute\":\"no-such\"}",
            "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"The command no-such has not been found\"}}",
        }));
        foreach (var l in lines) using (JsonDocument.Parse(l)) { }
        Directory.Delete(directory, recursive: true);
    }

    [Test]
    public void AnErrorExitsOneAfterRunningTheRest()
    {
        var r = Shell("no-such\nquery-name\n");
        Assert.That(r.StdErr.Trim(), Is.EqualTo("Error: CommandNotFound: The command no-such has not been found"));
        Assert.That(r.StdOut.Trim(), Is.EqualTo("{\"return\":{}}"));
        Assert.That(r.ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void EventsArePrintedInOrderAsJsonLines()
    {
        var r = Shell("cont\nstop\n");
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        var lines = Lines(r.StdOut);
        Assert.That(lines, Has.Length.EqualTo(4), r.StdOut);
        Assert.That(lines[0], Does.Match("^\\{\"timestamp\":\\{\"seconds\":\\d+,\"microseconds\":\\d+\\},\"event\":\"RESUME\"\\}$"));
        Assert.That(lines[1], Is.EqualTo("{\"return\":{}}"));
        Assert.That(lines[2], Does.Contain("\"event\":\"STOP\""));
        Assert.That(lines[3], Is.EqualTo("{\"return\":{}}"));
    }

    [Test]
    public void TheAddressComesFromQmpSocketWhenNotGiven()
    {
        var r = Qomfs.Run("qmp-shell", [], TimeSpan.FromSeconds(20), "query-name\n"u8.ToArray(),
            new Dictionary<string, string?> { ["QMP_SOCKET"] = _qemu.QmpSocket });
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        Assert.That(r.StdOut.Trim(), Is.EqualTo("{\"return\":{}}"));

        var none = Qomfs.Run("qmp-shell", [], TimeSpan.FromSeconds(20), [], new Dictionary<string, string?> { ["QMP_SOCKET"] = null });
        Assert.That(none.ExitCode, Is.EqualTo(2));
        Assert.That(none.StdErr, Does.Contain("no QMP address"));
    }

    [Test]
    public void ALostConnectionSaysDisconnectedWithoutAStackTrace()
    {
        using var server = new ScriptedServer(async c =>
        {
            await ScriptedServer.Handshake(c);
            await c.ReadRequestAsync();
            c.Close();
        });
        var r = Qomfs.Run("qmp-shell", [server.SocketPath], TimeSpan.FromSeconds(20), "query-status\nquery-name\n"u8.ToArray());
        Assert.That(r.StdErr, Does.StartWith("Disconnected"));
        Assert.That(r.StdErr, Does.Not.Contain("   at "));
        Assert.That(r.ExitCode, Is.EqualTo(3));
    }

    [Test]
    public void StandardInputClosedIsAReadErrorAndNothingIsSent()
    {
        // The runtime opens /dev/urandom before the shell reads: read as input, it sent QEMU random commands for ever.
        // Twenty times: the shell used to end by waking its closed eventfd, whose number standard error's copy had
        // taken by then, in about one run of twenty (8 bytes of 0x01 0x00... before the message).
        for (var i = 0; i < 20; i++)
        {
            var r = ProcessRunner.Sh($"exec '{Qomfs.Named("qmp-shell")}' '{_qemu.QmpSocket}' <&-", TimeSpan.FromSeconds(20));
            Assert.That((r.ExitCode, r.StdErr, r.StdOut), Is.EqualTo((1, "qmp-shell: read: Bad file descriptor\n", "")), $"run {i}");
        }
    }

    [Test]
    public void AJsonObjectWithANameTwiceIsRefusedAndTheShellGoesOn()
    {
        var r = Shell("{\"execute\": \"query-status\", \"execute\": \"query-name\"}\nqom-get path=/machine property=type x={\"a\": 1, \"a\": 2}\nquery-name\n");
        Assert.That(Lines(r.StdOut), Is.EqualTo(new[] { "{\"return\":{}}" }), r.StdErr);
        Assert.That(r.StdErr, Does.Contain("Error: invalid JSON: Duplicate property 'execute'")
            .And.Contain("is not valid JSON: Duplicate property 'a'").And.Not.Contain("internal error"));
        Assert.That(r.ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void WithoutNegotiationQemusGreetingIsTakenAndTheInputNegotiates()
    {
        // -N is for a guest agent, which does not greet; QEMU greets all the same, and the input does the rest.
        var r = Shell("qmp_capabilities\nquery-status\n", "-N");
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((0, "")));
        Assert.That(Lines(r.StdOut), Has.Length.EqualTo(2).And.Contains("{\"return\":{}}"));
        var unnegotiated = Shell("query-status\n", "-N");
        Assert.That(unnegotiated.StdErr, Does.Contain("Error: CommandNotFound: Expecting capabilities negotiation with 'qmp_capabilities'"));
    }
}
