using System.Diagnostics;
using System.Text;
using QomFs.Testing;

namespace QomFs.Cli.Tests.Ga;

/// <summary>The qemu-ga-client binary against each real qemu-ga; guest-exec and everything acting on the machine blocked.</summary>
[Category(Needs.Agent), Category(Needs.Binary)]
[NonParallelizable]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class GaCliTests(QemuPeer peer)
{
    QemuGaProcess _agent = null!;

    [OneTimeSetUp] public void Start() => _agent = QemuGaProcess.Start(peer);
    [OneTimeTearDown] public void Stop() => _agent?.Dispose();

    ProcessResult Ga(params string[] args) => Qomfs.Run("qemu-ga-client", ["--address", _agent.SocketPath, .. args], TimeSpan.FromSeconds(30));

    string GuestFile(string name) => Path.Combine(_agent.Directory, name);

    [Test]
    public void PingIsSilentOnSuccessAsUpstream()
    {
        var r = Ga("ping");
        Assert.That((r.ExitCode, r.StdOut, r.StdErr), Is.EqualTo((0, "", "")));
    }

    [Test]
    public void PingTakesTheAddressFromTheEnvironment()
    {
        var r = Qomfs.Run("qemu-ga-client", ["ping", "2"], env: new Dictionary<string, string?> { ["QGA_CLIENT_ADDRESS"] = _agent.SocketPath });
        Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr);
    }

    [Test]
    public void Info()
    {
        var r = Ga("info");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr);
        var lines = r.StdOut.Split('\n');
        Assert.That(lines[0], Does.Match(@"^version: \d+\.\d+"));
        Assert.That(lines.Single(l => l.StartsWith("\tenabled: ")), Does.Contain("guest-ping"));
        Assert.That(lines.Single(l => l.StartsWith("\tdisabled: ")), Does.Contain("guest-shutdown").And.Contain("guest-exec"));
        // In the agent's own order, as upstream prints them: the order of guest-info's reply.
        var json = Ga("--json", "info");
        Assert.That(json.ExitCode, Is.EqualTo(0), json.StdErr);
        var agentOrder = System.Text.Json.JsonDocument.Parse(json.StdOut).RootElement.GetProperty("supported_commands").EnumerateArray()
            .Where(c => c.GetProperty("enabled").GetBoolean()).Select(c => c.GetProperty("name").GetString()!);
        Assert.That(lines.Single(l => l.StartsWith("\tenabled: ")), Is.EqualTo("\tenabled: " + string.Join(", ", agentOrder)));
    }

    [Test]
    public void CatOfATextFileIsByteIdentical()
    {
        var text = "hello from the guest\nsecond line, ünïcode\n"u8.ToArray();
        File.WriteAllBytes(GuestFile("text.txt"), text);
        var r = Ga("cat", GuestFile("text.txt"));
        Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr);
        Assert.That(r.StdOutBytes, Is.EqualTo(text));
    }

    [Test]
    public void CatStopsWhenItsReaderGoesAndLeavesTheAgentServing()
    {
        // An endless guest file into `head`: the copy must end at the first write that fails with EPIPE, close the
        // guest file, and exit 0, as qom-tree does; the agent goes on answering.
        var r = ProcessRunner.Sh($"timeout 20 '{Qomfs.Named("qemu-ga-client")}' --address '{_agent.SocketPath}' cat /dev/zero | head -c 10 | wc -c; echo \"${{PIPESTATUS[0]}}\"",
            TimeSpan.FromSeconds(30));
        Assert.That(r.StdOut, Is.EqualTo("10\n0\n"), r.StdErr);
        var ping = Ga("ping");
        Assert.That(ping.ExitCode, Is.EqualTo(0), ping.StdErr);
    }

    [Test]
    public void CatOfABinaryFileIsByteIdentical()
    {
        var data = new byte[70_000];
        new Random(7).NextBytes(data);
        for (var i = 0; i < 256; i++) data[i] = (byte)i;
        File.WriteAllBytes(GuestFile("binary.bin"), data);
        var r = Ga("cat", GuestFile("binary.bin"));
        Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr);
        Assert.That(r.StdOutBytes, Is.EqualTo(data));
    }

    [Test]
    public void PutAndGetRoundTripAFileOverOneMegabyte()
    {
        var data = new byte[(3 << 20) / 2 + 7];
        new Random(11).NextBytes(data);
        var dir = TempPaths.NewDirectory("ga-put");
        try { PutAndGet(data, Path.Combine(dir, "local.bin")); }
        finally { Directory.Delete(dir, recursive: true); }
    }

    void PutAndGet(byte[] data, string local)
    {
        File.WriteAllBytes(local, data);

        var put = Ga("put", local, GuestFile("put.bin"));
        Assert.That(put.ExitCode, Is.EqualTo(0), put.StdErr);
        Assert.That(put.StdOut, Does.Contain($"{data.Length} bytes"));
        Assert.That(File.ReadAllBytes(GuestFile("put.bin")), Is.EqualTo(data));

        var back = local + ".back";
        var get = Ga("get", GuestFile("put.bin"), back);
        Assert.That(get.ExitCode, Is.EqualTo(0), get.StdErr);
        Assert.That(File.ReadAllBytes(back), Is.EqualTo(data));
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(local)!, "*.part-*"), Is.Empty);
    }

    [Test]
    public void GetOfAMissingFileIsRefusedAndLeavesNothingBehind()
    {
        var dir = TempPaths.NewDirectory("ga-get");
        try
        {
            var r = Ga("get", GuestFile("missing"), Path.Combine(dir, "out"));
            Assert.That(r.ExitCode, Is.EqualTo(1));
            Assert.That(r.StdErr, Does.Contain("No such file or directory"));
            Assert.That(Directory.GetFileSystemEntries(dir), Is.Empty);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public void LocalFilesThatCannotBeOpenedAreNamedAsGiven()
    {
        var dir = TempPaths.NewDirectory("ga-local");
        try
        {
            File.WriteAllText(GuestFile("local.txt"), "x");
            var target = Path.Combine(dir, "no-such-dir", "out");
            var r = Ga("get", GuestFile("local.txt"), target);
            Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((1, $"qemu-ga-client: cannot write {target}: No such file or directory\n")), "the target, not a temporary name");
            var source = Path.Combine(dir, "missing");
            r = Ga("put", source, GuestFile("put.txt"));
            Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((1, $"qemu-ga-client: cannot read {source}: No such file or directory\n")));
            Assert.That(File.Exists(GuestFile("put.txt")), Is.False, "nothing was opened in the guest");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public void OptionsMayFollowTheCommandAsUpstreamTakesThem()
    {
        var ping = Qomfs.Run("qemu-ga-client", ["ping", "--address", _agent.SocketPath], TimeSpan.FromSeconds(30));
        Assert.That((ping.ExitCode, ping.StdErr), Is.EqualTo((0, "")));
        var info = Qomfs.Run("qemu-ga-client", ["info", $"--address={_agent.SocketPath}", "--json"], TimeSpan.FromSeconds(30));
        Assert.That(info.ExitCode, Is.EqualTo(0), info.StdErr);
        Assert.That(info.StdOut, Does.StartWith("{\"version\": "), "--json after the command applies");
        var negative = Qomfs.Run("qemu-ga-client", ["ping", "--address", _agent.SocketPath, "-1"], TimeSpan.FromSeconds(30));
        Assert.That(negative.StdErr, Does.Not.Contain("unknown option"), "a negative number is still an argument");
    }

    [Test, Category(Needs.Qemu)]
    public void QemusMonitorSocketIsNamedForWhatItIsAtOnce()
    {
        using var qemu = QemuProcess.Start(peer);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var r = Qomfs.Run("qemu-ga-client", ["--address", qemu.QmpSocket, "--timeout", "10", "info"], TimeSpan.FromSeconds(30));
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((3,
            $"qemu-ga-client: the guest agent address {qemu.QmpSocket} leads to a QEMU monitor (QMP), not to a guest agent\n")));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "not after the 10 s timeout");
    }

    [Test]
    public void AnInterruptedGetLeavesNoHalfFileBehind()
    {
        using var agent = QemuGaProcess.Start(peer); // its own: nothing else depends on how it takes a client gone mid-copy
        var big = Path.Combine(agent.Directory, "big.bin");
        using (var f = File.Create(big)) f.SetLength(256L << 20);
        var dir = TempPaths.NewDirectory("ga-interrupted");
        try
        {
            using var get = ProcessRunner.Start(Qomfs.Named("qemu-ga-client"), ["--address", agent.SocketPath, "get", big, Path.Combine(dir, "out")]);
            Wait.Until(() => Directory.GetFiles(dir, "*.part-*").Any(p => new FileInfo(p).Length > 0), TimeSpan.FromSeconds(20), "the copy under way");
            Assert.That(ProcessRunner.Sh($"kill -INT {get.Id}").ExitCode, Is.Zero);
            var r = ProcessRunner.Finish(get, TimeSpan.FromSeconds(20));
            Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((130, "qemu-ga-client: interrupted\n")));
            Assert.That(Directory.GetFileSystemEntries(dir), Is.Empty, "no half file");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public void IfconfigShowsLoopback()
    {
        var r = Ga("ifconfig");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr);
        Assert.That(r.StdOut, Does.Contain("lo:\n\tinet 127.0.0.1  netmask 255.0.0.0\n"));
        // The agent gives loopback the hardware address 00:00:00:00:00:00, which upstream leaves out.
        Assert.That(r.StdOut, Does.Not.Contain("ether 00:00:00:00:00:00"));
    }

    [Test]
    public void FsfreezeStatusIsThawed()
    {
        var r = Ga("fsfreeze", "status");
        Assert.That((r.ExitCode, r.StdOut), Is.EqualTo((0, "thawed\n")), r.StdErr);
    }

    [Test]
    public void JsonPrintsTheAgentsReply()
    {
        var r = Ga("--json", "hostname");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr);
        using var doc = System.Text.Json.JsonDocument.Parse(r.StdOut);
        Assert.That(doc.RootElement.GetProperty("host-name").GetString(), Is.EqualTo(System.Net.Dns.GetHostName()));
    }

    [Test]
    public void TimeIsNow()
    {
        var r = Ga("time");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr);
        var t = DateTimeOffset.Parse(r.StdOut.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(t, Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(1)));
    }

    [TestCase("osinfo", "id: ")]
    [TestCase("fsinfo", "\t")]
    [TestCase("timezone", "(UTC")]
    [TestCase("hostname", "")]
    public void InfoCommandsPrintText(string command, string expected)
    {
        var r = Ga(command);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr);
        Assert.That(r.StdOut, Does.Contain(expected).And.EndWith("\n"));
    }

    [TestCase("exec", "guest-exec", "--", "/bin/echo", "hi")]
    [TestCase("shutdown", "guest-shutdown")]
    [TestCase("reboot", "guest-shutdown")]
    [TestCase("suspend", "guest-suspend-ram", "ram")]
    [TestCase("fsfreeze", "guest-fsfreeze-freeze", "freeze")]
    public void ABlockedCommandSaysSoAndExits1(string command, string rpc, params string[] args)
    {
        var r = Ga([command, .. args]);
        Assert.That(r.ExitCode, Is.EqualTo(1));
        Assert.That(r.StdErr, Is.EqualTo($"qemu-ga-client: the guest agent has disabled {rpc}\n"));
    }

    [Test]
    public void UsersRunsEvenWithNobodyLoggedIn() =>
        Assert.That(Ga("users").ExitCode, Is.EqualTo(0));
}

/// <summary>What needs no agent, or a fake one.</summary>
[Category(Needs.Binary)]
public class GaCliWithoutAgentTests
{
    [Test]
    public void NoAgentIsExit3()
    {
        var r = Qomfs.Run("qemu-ga-client", ["--address", TempPaths.NewSocket("none"), "ping"]);
        Assert.That(r.ExitCode, Is.EqualTo(3));
        Assert.That(r.StdErr, Does.StartWith("qemu-ga-client: cannot connect to "));
    }

    [Test]
    public void ASilentAgentTimesOutWithinTheTimeout()
    {
        using var silent = new ScriptedServer(c => c.WaitForCloseAsync(TimeSpan.FromSeconds(20)));
        var clock = Stopwatch.StartNew();
        var r = Qomfs.Run("qemu-ga-client", ["--address", silent.SocketPath, "--timeout", "1", "info"]);
        Assert.That(r.ExitCode, Is.EqualTo(3));
        Assert.That(r.StdErr, Does.Contain("no reply from the guest agent").And.Contain("within 1 s"));
        // Long before the agent's 20 s of silence end: the 1 s timeout did it. How soon is the bench's business.
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
    }

    [Test]
    public void FreezeAndThawAgainstAFakeAgent()
    {
        using var fake = new ScriptedServer(async c =>
        {
            await FakeGuestAgent.StartAsync(c, "guest-fsfreeze-freeze", "guest-fsfreeze-thaw");
            var r = await c.ReadRequestAsync();
            await c.SendLineAsync(FakeGuestAgent.Return(r, r.Execute == "guest-fsfreeze-freeze" ? "3" : "2"));
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        var freeze = Qomfs.Run("qemu-ga-client", ["--address", fake.SocketPath, "fsfreeze", "freeze"]);
        Assert.That((freeze.ExitCode, freeze.StdOut), Is.EqualTo((0, "3 filesystems frozen\n")), freeze.StdErr);
        var thaw = Qomfs.Run("qemu-ga-client", ["--address", fake.SocketPath, "fsfreeze", "thaw"]);
        Assert.That((thaw.ExitCode, thaw.StdOut), Is.EqualTo((0, "2 filesystems thawed\n")), thaw.StdErr);
    }

    [TestCase("freeze", 0)]
    [TestCase("status", 3)]
    public void FreezeWaitsLongerForTheSyncThanTheTimeoutAsUpstream(string command, int exitCode)
    {
        // An agent that answers the sync after 1.5 s: past --timeout 1, well within freeze's 60 s.
        using var slow = new ScriptedServer(async c =>
        {
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            await FakeGuestAgent.StartAsync(c, "guest-fsfreeze-freeze", "guest-fsfreeze-status");
            var r = await c.ReadRequestAsync();
            await c.SendLineAsync(FakeGuestAgent.Return(r, r.Execute == "guest-fsfreeze-freeze" ? "1" : "\"thawed\""));
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        var result = Qomfs.Run("qemu-ga-client", ["--address", slow.SocketPath, "--timeout", "1", "fsfreeze", command]);
        Assert.That(result.ExitCode, Is.EqualTo(exitCode), result.StdErr);
        if (exitCode == 0) Assert.That(result.StdOut, Is.EqualTo("1 filesystems frozen\n"));
    }

    [Test]
    public void ShutdownWithNoReplyIsSuccess()
    {
        using var fake = new ScriptedServer(async c =>
        {
            await FakeGuestAgent.StartAsync(c, "guest-shutdown");
            var r = await c.ReadRequestAsync();
            if (r.Execute == "guest-shutdown") c.Close();
        });
        var r = Qomfs.Run("qemu-ga-client", ["--address", fake.SocketPath, "powerdown"]);
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((0, "")));
    }

    [TestCase("")]
    [TestCase("nosuchcommand")]
    [TestCase("cat")]
    [TestCase("get onlyone")]
    [TestCase("suspend sideways")]
    [TestCase("fsfreeze melt")]
    [TestCase("--timeout soon ping")]
    [TestCase("exec --env NOEQUALS -- /bin/true")]
    [TestCase("--bogus ping")]
    public void UsageErrorsExit2(string commandLine)
    {
        var args = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var r = Qomfs.Run("qemu-ga-client", ["--address", "/nonexistent.sock", .. args]);
        Assert.That(r.ExitCode, Is.EqualTo(2));
        Assert.That(r.StdErr.TrimEnd('\n').Split('\n'), Has.Length.EqualTo(1));
    }

    [Test]
    public void NoAddressIsAUsageError()
    {
        var r = Qomfs.Run("qemu-ga-client", ["ping"], env: new Dictionary<string, string?> { ["QGA_CLIENT_ADDRESS"] = null });
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((2, "qemu-ga-client: no guest agent address: give --address or set $QGA_CLIENT_ADDRESS\n")));
    }

    [Test]
    public void HelpAndTheQomfsGaName()
    {
        var help = Qomfs.Run("qemu-ga-client", ["--help"]);
        Assert.That(help.ExitCode, Is.EqualTo(0), help.StdErr);
        Assert.That(help.StdOut, Does.StartWith("usage: qemu-ga-client [--address ADDR]").And.Contain("exec [--timeout S]"));
        var viaQomfs = Qomfs.Run("qomfs", ["ga", "--help"]);
        Assert.That(viaQomfs.StdOut, Does.StartWith("usage: qomfs ga [--address ADDR]"));
    }
}

/// <summary>exec against each real qemu-ga that allows guest-exec, for harmless fixed commands only.</summary>
[Category(Needs.Agent), Category(Needs.Binary)]
[NonParallelizable]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class GaCliExecTests(QemuPeer peer)
{
    QemuGaProcess _agent = null!;

    [OneTimeSetUp] public void Start() => _agent = QemuGaProcess.Start(peer, allowExec: true);
    [OneTimeTearDown] public void Stop() => _agent?.Dispose();

    ProcessResult Ga(params string[] args) => Qomfs.Run("qemu-ga-client", ["--address", _agent.SocketPath, .. args], TimeSpan.FromSeconds(30));

    [Test]
    public void EchoOutputAndExitCode0()
    {
        var r = Ga("exec", "--", "/bin/echo", "hello", "world");
        Assert.That((r.ExitCode, r.StdOut, r.StdErr), Is.EqualTo((0, "hello world\n", "")));
    }

    [Test]
    public void ExitCode3AndStderr()
    {
        var r = Ga("exec", "--", "/bin/sh", "-c", "echo oops >&2; exit 3");
        Assert.That((r.ExitCode, r.StdOut, r.StdErr), Is.EqualTo((3, "", "oops\n")));
    }

    [Test]
    public void EnvAndStdin()
    {
        var input = Path.Combine(_agent.Directory, "in.txt");
        File.WriteAllText(input, "from stdin\n");
        var r = Ga("exec", "--env", "GREETING=hi there", "--stdin", input, "--", "/bin/sh", "-c", "echo \"$GREETING\"; cat");
        Assert.That((r.ExitCode, r.StdOut), Is.EqualTo((0, "hi there\nfrom stdin\n")), r.StdErr);
    }

    [Test]
    public void JsonPrintsTheFinalStatus()
    {
        var r = Ga("--json", "exec", "--", "/bin/echo", "x");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr);
        using var doc = System.Text.Json.JsonDocument.Parse(r.StdOut);
        Assert.That(Encoding.UTF8.GetString(Convert.FromBase64String(doc.RootElement.GetProperty("out-data").GetString()!)), Is.EqualTo("x\n"));
    }
}
