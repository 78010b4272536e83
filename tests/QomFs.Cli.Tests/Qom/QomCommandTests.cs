using System.Text.Json;
using QomFs.Qmp;
using QomFs.Testing;

namespace QomFs.Cli.Tests.Qom;

/// <summary>The qom-* commands end to end: the published binary, by its drop-in names, against each real QEMU.</summary>
[Category(Needs.Qemu), Category(Needs.Binary)]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class QomCommandTests(QemuPeer peer)
{
    // Stands for the peer's machine type in a case's expected message.
    const string MachineType = "<q35 machine type>";

    QemuProcess _qemu = null!;
    QmpClient _check = null!;
    Dictionary<string, string?> _env = null!;

    [SetUp]
    public async Task Start()
    {
        _qemu = QemuProcess.Start(peer, "-object", "memory-backend-ram,id=mem0,size=64M");
        _check = await QmpClient.ConnectAsync(QmpAddress.Unix(_qemu.SecondSocket));
        _env = new() { ["QMP_SOCKET"] = _qemu.QmpSocket };
    }

    [TearDown]
    public void Stop()
    {
        _check?.Dispose();
        _qemu.Dispose();
    }

    ProcessResult Run(string name, params string[] args) => Qomfs.Run(name, args, env: _env);

    async Task<string> Raw(string path, string property) =>
        (await _check.ExecuteAsync("qom-get", w => { w.WriteString("path", path); w.WriteString("property", property); })).ToElement().GetRawText();

    [TestCase("qom-get", new[] { "/machine.type" })]
    [TestCase("qom-get", new[] { "/machine", "type" })]
    [TestCase("qom", new[] { "get", "/machine.type" })]
    [TestCase("qomfs", new[] { "get", "/machine.type" })]
    [TestCase("qomfs", new[] { "qom", "get", "/machine.type" })]
    public void EveryNameOfGetPrintsTheValue(string name, string[] args)
    {
        var r = Run(name, args);
        Assert.That((r.ExitCode, r.StdOut, r.StdErr), Is.EqualTo((0, peer.Q35MachineType + "\n", "")));
    }

    [Test]
    public void GetResolvesDotsInNames()
    {
        var r = Run("qom-get", "/machine/unattached/device[0].sse4.2");
        Assert.That((r.ExitCode, r.StdOut), Is.EqualTo((0, "false\n")));
        r = Run("qom-get", "/objects/pc.ram.size");
        Assert.That((r.ExitCode, r.StdOut), Is.EqualTo((0, "134217728\n")));
    }

    [Test]
    public void GetPrintsAnObjectAsKeyValueLinesAndListsAsCompactJson()
    {
        // As QEMU's qom-get: one "key: value" line per member, each value printed as a whole value would be.
        var r = Run("qom-get", "/machine.boot");
        Assert.That((r.ExitCode, r.StdOut), Is.EqualTo((0, "order: cad\n")), r.StdErr);
        r = Run("qom-get", "/machine.rtc-time");
        Assert.That(r.StdOut, Does.Match(@"^(tm_\w+: -?\d+\n){6}$"));
        Assert.That(r.StdOut, Does.Contain("tm_year: "));
        r = Run("qom-get", "/machine/unattached/device[0].feature-words");
        Assert.That(r.StdOut, Does.StartWith("[{\"").And.EndWith("}]\n"));
    }

    [Test]
    public void SocketOptionOverridesTheEnvironment()
    {
        var r = Qomfs.Run("qom-get", ["-s", _qemu.QmpSocket, "/machine.hpet"], env: new Dictionary<string, string?> { ["QMP_SOCKET"] = "/nonexistent" });
        Assert.That((r.ExitCode, r.StdOut), Is.EqualTo((0, "true\n")));
        r = Qomfs.Run("qom-get", ["--socket=" + _qemu.QmpSocket, "/machine.hpet"], env: new Dictionary<string, string?> { ["QMP_SOCKET"] = null });
        Assert.That((r.ExitCode, r.StdOut), Is.EqualTo((0, "true\n")));
    }

    [TestCase("/machine.hpet", "off", "false")]
    [TestCase("/machine.phandle-start", "0x2a", "42")]
    [TestCase("/machine.dt-compatible", "two words", "\"two words\"")]
    [TestCase("/objects/mem0.prealloc", "yes", "true")]
    [TestCase("/objects/mem0.policy", "bind", "\"bind\"")]
    [TestCase("/objects/mem0.prealloc-threads", "3", "3")]
    public async Task SetConvertsWithTheTypeAndReadsBackOnTheSecondSocket(string target, string value, string json)
    {
        var r = Run("qom-set", target, value);
        Assert.That((r.ExitCode, r.StdErr, r.StdOut), Is.EqualTo((0, "", "")));
        var dot = target.IndexOf('.');
        Assert.That(await Raw(target[..dot], target[(dot + 1)..]), Is.EqualTo(json));
    }

    [Test]
    public async Task SetTakesThePathAndPropertySeparately()
    {
        Assert.That(Run("qom-set", "/machine", "phandle-start", "7").ExitCode, Is.EqualTo(0));
        Assert.That(await Raw("/machine", "phandle-start"), Is.EqualTo("7"));
    }

    [TestCase(new[] { "/machine.hpet", "maybe" }, "hpet (bool): 'maybe' is not a boolean")]
    [TestCase(new[] { "/objects/mem0/mem0[0].priority", "-1" }, "priority (uint32): -1 is out of range (0..4294967295)")]
    [TestCase(new[] { "/machine.bus-lock-ratelimit", "-1" }, "bus-lock-ratelimit (uint64_t): -1 is out of range (0..18446744073709551615)")]
    [TestCase(new[] { "/objects/mem0.prealloc-threads", "-1" }, "GenericError: Parameter 'prealloc-threads' expects uint32_t")]
    [TestCase(new[] { "/machine.type", "x" }, "GenericError: Property '" + MachineType + ".type' is not writable")]
    [TestCase(new[] { "/objects/mem0.policy", "bogus" }, "GenericError: Parameter 'policy' does not accept value 'bogus'")]
    [TestCase(new[] { "/machine/nope.x", "1" }, "DeviceNotFound: Device '/machine/nope' not found")]
    public async Task ARejectedSetExitsOneWithOneLineAndChangesNothing(string[] args, string message)
    {
        var before = await Raw("/machine", "hpet");
        var r = Run("qom-set", args);
        Assert.That(r.ExitCode, Is.EqualTo(1));
        Assert.That(r.StdErr, Does.StartWith("qom-set: ").And.Contain(message.Replace(MachineType, peer.Q35MachineType)).And.EndWith("\n"));
        Assert.That(r.StdErr.TrimEnd('\n'), Does.Not.Contain("\n"));
        Assert.That(await Raw("/machine", "hpet"), Is.EqualTo(before));
    }

    [Test]
    public void AnUnknownPropertyIsQemusErrorAndExitOne()
    {
        var r = Run("qom-get", "/machine.nope");
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((1, $"qom-get: GenericError: Property '{peer.Q35MachineType}.nope' not found\n")));
    }

    [Test]
    public async Task ListMarksChildrenAndLinks()
    {
        var r = Run("qom-list", "/machine");
        Assert.That(r.ExitCode, Is.EqualTo(0));
        var lines = r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var raw = (await _check.ExecuteAsync("qom-list", w => w.WriteString("path", "/machine"))).ToElement().EnumerateArray()
            .Select(p => (p.GetProperty("name").GetString()!, p.GetProperty("type").GetString()!))
            .Select(p => p.Item2.StartsWith("child<") ? p.Item1 + "/" : p.Item2.StartsWith("link<") ? "@" + p.Item1 + "/" : p.Item1);
        Assert.That(lines, Is.EqualTo(raw));
        Assert.That(lines, Does.Contain("unattached/").And.Contain("@memory-backend/").And.Contain("hpet"));
    }

    [Test]
    public async Task ListOfEveryObjectMatchesARawListing()
    {
        var paths = new List<string>();
        var queue = new Queue<string>(["/"]);
        while (queue.Count > 0)
        {
            var p = queue.Dequeue();
            paths.Add(p);
            foreach (var e in (await _check.ExecuteAsync("qom-list", w => w.WriteString("path", p))).ToElement().EnumerateArray())
                if (e.GetProperty("type").GetString()!.StartsWith("child<"))
                    queue.Enqueue(p == "/" ? "/" + e.GetProperty("name").GetString() : p + "/" + e.GetProperty("name").GetString());
        }
        Assert.That(paths, Has.Count.GreaterThan(200));
        foreach (var p in paths)
        {
            var r = Run("qom-list", p);
            var expected = (await _check.ExecuteAsync("qom-list", w => w.WriteString("path", p))).ToElement().GetArrayLength();
            Assert.That((r.ExitCode, r.StdOut.Count(c => c == '\n')), Is.EqualTo((0, expected)), p);
        }
    }

    [Test]
    public async Task TreeMatchesRawReadsLineByLine()
    {
        var r = Run("qom-tree", "/machine");
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((0, "")));
        var lines = r.StdOut.Split('\n');
        Assert.That(lines[0], Is.EqualTo("/machine"));
        string path = "";
        int objects = 0, values = 0;
        foreach (var line in lines)
        {
            if (line.StartsWith('/')) { path = line; objects++; continue; }
            if (line.Length == 0 || line.EndsWith(" (struct tm)")) continue;
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            var name = line[2..colon];
            var type = line[(line.LastIndexOf(" (", StringComparison.Ordinal) + 2)..^1];
            string text;
            try
            {
                var v = (await _check.ExecuteAsync("qom-get", w => { w.WriteString("path", path); w.WriteString("property", name); })).ToElement();
                text = v.ValueKind == JsonValueKind.String ? v.GetString()! : JsonSerializer.Serialize(v).Replace("\\u003C", "<").Replace("\\u003E", ">");
            }
            catch (QmpCommandException e) { text = $"<EXCEPTION: {e.Description}>"; }
            Assert.That(line, Is.EqualTo($"  {name}: {text} ({type})"), path);
            values++;
        }
        Assert.That(objects, Is.GreaterThan(200));
        Assert.That(values, Is.GreaterThan(1000));
    }

    [TestCase("qom-get", new string[0])]
    [TestCase("qom-get", new[] { "/machine" })]
    [TestCase("qom-get", new[] { "--bogus", "/machine.hpet" })]
    [TestCase("qom-set", new[] { "/machine.hpet" })]
    [TestCase("qom-list", new[] { "a", "b" })]
    [TestCase("qom", new[] { "frobnicate" })]
    [TestCase("qom-get", new[] { "-s" })]
    [TestCase("qom-get", new[] { "--timeout", "zero", "/machine.hpet" })]
    public void UsageErrorsExitTwoWithOneLine(string name, string[] args)
    {
        var r = Run(name, args);
        Assert.That(r.ExitCode, Is.EqualTo(2), r.StdErr);
        Assert.That(r.StdErr.TrimEnd('\n').Split('\n'), Has.Length.EqualTo(1));
        Assert.That(r.StdErr, Does.Not.Contain("   at "));
    }

    [TestCase("qom-get")] [TestCase("qom-set")] [TestCase("qom-list")] [TestCase("qom-tree")]
    public void HelpExitsZero(string name)
    {
        var r = Run(name, "--help");
        Assert.That((r.ExitCode, r.StdOut), Is.EqualTo((0, r.StdOut)));
        Assert.That(r.StdOut, Does.StartWith("usage: " + name));
    }

    [Test]
    public void NoSocketIsAUsageErrorThatSaysSo()
    {
        var r = Qomfs.Run("qom-get", ["/machine.hpet"], env: new Dictionary<string, string?> { ["QMP_SOCKET"] = null });
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((2, "qom-get: no QMP socket: give --socket or set $QMP_SOCKET\n")));
    }

    [Test]
    public void AnUnreachableSocketExitsThreeNamingTheAddress()
    {
        var path = TempPaths.NewSocket("gone");
        var r = Qomfs.Run("qom-get", ["-s", path, "/machine.hpet"]);
        Assert.That(r.ExitCode, Is.EqualTo(3));
        Assert.That(r.StdErr, Is.EqualTo($"qom-get: cannot connect to {path}: no such socket\n"));
    }

    [Test]
    public void APathThatIsNoSocketSaysSoAndOneNobodyListensOnIsRefused()
    {
        var dir = TempPaths.NewDirectory("not-socket");
        var file = Path.Combine(dir, "file");
        File.WriteAllText(file, "");
        Assert.That(ProcessRunner.Sh($"mkfifo '{dir}/fifo'").ExitCode, Is.Zero);
        foreach (var path in new[] { file, dir, Path.Combine(dir, "fifo") })
        {
            var r = Qomfs.Run("qom-get", ["-s", path, "/machine.hpet"], TimeSpan.FromSeconds(20));
            Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((3, $"qom-get: cannot connect to {path}: not a socket\n")));
        }
        // A socket that nobody listens on (bound, never listening): connect(2)'s own word for it.
        var stale = Path.Combine(dir, "stale.sock");
        using (var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified))
        {
            s.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(stale));
            var refused = Qomfs.Run("qom-get", ["-s", stale, "/machine.hpet"], TimeSpan.FromSeconds(20));
            Assert.That((refused.ExitCode, refused.StdErr), Is.EqualTo((3, $"qom-get: cannot connect to {stale}: Connection refused\n")));
        }
        Directory.Delete(dir, recursive: true);
    }

    [Test]
    public void APathThatIsNoSocketIsNeverOpened()
    {
        // A writer blocked opening a FIFO goes on at the first open for reading. If the "not a socket" check opened
        // the path, the writer would write into a pipe that is closed again at once, and its line would be lost.
        var dir = TempPaths.NewDirectory("fifo-writer");
        var fifo = Path.Combine(dir, "fifo");
        Assert.That(ProcessRunner.Sh($"mkfifo '{fifo}'").ExitCode, Is.Zero);
        using var writer = ProcessRunner.Start("/bin/sh", ["-c", $"echo waited > '{fifo}'"]);
        const string Openat = "257 ";
        Wait.Until(() => File.ReadAllText($"/proc/{writer.Id}/syscall").StartsWith(Openat), TimeSpan.FromSeconds(10), "the writer to block in open(2)");
        var r = Qomfs.Run("qom-get", ["-s", fifo, "/machine.hpet"], TimeSpan.FromSeconds(20));
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((3, $"qom-get: cannot connect to {fifo}: not a socket\n")));
        var read = ProcessRunner.Sh($"timeout 10 cat '{fifo}'", TimeSpan.FromSeconds(20));
        Assert.That(read.StdOut, Is.EqualTo("waited\n"), "the writer's line, which only an open for reading lets through");
        Directory.Delete(dir, recursive: true);
    }

    [Test]
    public void AFrozenQemuTimesOutWithExitThree()
    {
        _qemu.Signal(19);
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var r = Run("qom-get", "--timeout", "0.5", "/machine.hpet");
            Assert.That(r.ExitCode, Is.EqualTo(3));
            Assert.That(r.StdErr, Does.Contain(_qemu.QmpSocket));
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        }
        finally { _qemu.Signal(18); }
    }

    [Test]
    public void StartedWithStandardOutputOrErrorClosedItFailsWithItsExitCodeAndWritesNothingElsewhere()
    {
        var sock = _qemu.QmpSocket;
        var get = Qomfs.Named("qom-get");
        // Output closed: one line on stderr and exit 1, not a value written into whatever took descriptor 1.
        var r = ProcessRunner.Sh($"exec '{get}' -s '{sock}' /machine.type >&-", TimeSpan.FromSeconds(20));
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((1, "qom-get: cannot write to standard output: Bad file descriptor\n")));
        // Error closed: the exit code alone tells, and nothing aborts.
        r = ProcessRunner.Sh($"exec '{get}' -s '{sock}' /machine.no-such 2>&-", TimeSpan.FromSeconds(20));
        Assert.That((r.ExitCode, r.StdOut), Is.EqualTo((ExitCodes.Refused, "")));
        // And QEMU got nothing it should not have: the connection is still QEMU's and well.
        Assert.That(Run("qom-get", "/machine.type").StdOut, Is.EqualTo(peer.Q35MachineType + "\n"));
    }
}
