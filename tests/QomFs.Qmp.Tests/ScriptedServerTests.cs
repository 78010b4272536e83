using QomFs.Testing;

namespace QomFs.Qmp.Tests;

/// <summary>What a real QEMU will not do, from a scripted server.</summary>
public class ScriptedServerTests
{
    static Task<QmpClient> Connect(ScriptedServer s, QmpClientOptions? o = null) =>
        QmpClient.ConnectAsync(QmpAddress.Unix(s.SocketPath), o);

    [Test]
    public async Task AnEventBeforeTheNegotiationReplyIsNotTakenForIt()
    {
        using var server = new ScriptedServer(async c =>
        {
            await c.SendLineAsync(ScriptedServer.Greeting());
            var neg = await c.ReadRequestAsync();
            await c.SendLineAsync("""{"event": "RESUME", "timestamp": {"seconds": 1, "microseconds": 2}}""");
            await c.SendLineAsync($$"""{"return": {}, "id": {{neg.Id}}}""");
            var q = await c.ReadRequestAsync();
            await c.SendLineAsync($$"""{"return": {"status": "ok"}, "id": {{q.Id}}}""");
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server);
        var r = (await client.ExecuteAsync("query-status")).ToElement();
        Assert.That(r.GetProperty("status").GetString(), Is.EqualTo("ok"));
        Assert.That(client.StrayReplies, Is.EqualTo(0));
    }

    [Test]
    public async Task WithoutAReaderTheFirstCommandGoesOutBehindTheNegotiation()
    {
        // A server that answers the negotiation only once the next command is there too: a client that waited for
        // that answer first would wait until its timeout.
        using var server = new ScriptedServer(async c =>
        {
            await c.SendLineAsync(ScriptedServer.Greeting());
            await c.ReadRequestAsync();
            await c.ReadRequestAsync();
            await c.SendLineAsync("""{"return": {}}""");
            await c.SendLineAsync("""{"return": {"status": "ok"}}""");
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        var options = new QmpClientOptions { ReaderThread = false, ConnectTimeout = TimeSpan.FromSeconds(10), CommandTimeout = TimeSpan.FromSeconds(10) };
        await using var client = await Connect(server, options);
        Assert.That(client.Greeting, Is.Not.Null);
        Assert.That((await client.ExecuteAsync("query-status")).ToElement().GetProperty("status").GetString(), Is.EqualTo("ok"));
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task ARefusedNegotiationIsReportedAsSuch(bool readerThread)
    {
        using var server = new ScriptedServer(async c =>
        {
            await c.SendLineAsync(ScriptedServer.Greeting());
            await c.ReadRequestAsync();
            await c.SendLineAsync("""{"error": {"class": "GenericError", "desc": "not today"}}""");
            await c.ReadRequestAsync();
            await c.SendLineAsync("""{"return": {"status": "ok"}}""");
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        var options = new QmpClientOptions { ReaderThread = readerThread };
        QmpCommandException? refused;
        if (readerThread) refused = Assert.ThrowsAsync<QmpCommandException>(() => Connect(server, options));
        else
        {
            // Without a reader the negotiation's reply is read with the first command's, which fails with it.
            await using var client = await Connect(server, options);
            refused = Assert.ThrowsAsync<QmpCommandException>(() => client.ExecuteAsync("query-status"));
        }
        Assert.That(refused!.Command, Is.EqualTo("qmp_capabilities"));
        Assert.That(refused.Description, Is.EqualTo("not today"));
    }

    [Test]
    public async Task CrLfFramingAndAReplyWithoutIdGoToTheOldestCommand()
    {
        using var server = new ScriptedServer(async c =>
        {
            await ScriptedServer.Handshake(c);
            await c.ReadRequestAsync();
            await c.SendAsync("{\"return\": 42}\r\n"u8.ToArray());
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server);
        Assert.That((await client.ExecuteAsync("x")).ToString(), Is.EqualTo("42"));
    }

    [Test]
    public async Task BrokenJsonIsAProtocolErrorAndClosesTheConnection()
    {
        using var server = new ScriptedServer(async c =>
        {
            await ScriptedServer.Handshake(c);
            await c.ReadRequestAsync();
            await c.SendLineAsync("""{"return": {"a": tru""");
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server);
        var e = Assert.ThrowsAsync<QmpProtocolException>(() => client.ExecuteAsync("x"));
        Assert.That(e!.Message, Does.Contain("invalid JSON"));
        Assert.That(client.IsConnected, Is.False);
    }

    [TestCase("[1,2,3]", "not a JSON object")]
    [TestCase("{\"error\": {\"desc\": \"no class\"}, \"id\": 1}", "class")]
    [TestCase("{\"something\": 1}", "neither")]
    [TestCase("{\"return\": 1} {\"return\": 2}", "invalid JSON")]
    public async Task MalformedMessagesAreProtocolErrors(string line, string reason)
    {
        using var server = new ScriptedServer(async c =>
        {
            await ScriptedServer.Handshake(c);
            await c.ReadRequestAsync();
            await c.SendLineAsync(line);
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server);
        var e = Assert.ThrowsAsync<QmpProtocolException>(() => client.ExecuteAsync("x"));
        Assert.That(e!.Message, Does.Contain(reason));
    }

    [Test]
    public async Task ACloseInTheMiddleOfAReplyIsAConnectionError()
    {
        using var server = new ScriptedServer(async c =>
        {
            await ScriptedServer.Handshake(c);
            await c.ReadRequestAsync();
            await c.SendAsync("{\"return\": {\"half"u8.ToArray());
            c.Close();
        });
        await using var client = await Connect(server);
        Assert.ThrowsAsync<QmpConnectionException>(() => client.ExecuteAsync("x"));
        Assert.That(await client.Disconnected.WaitAsync(TimeSpan.FromSeconds(5)), Is.TypeOf<QmpConnectionException>());
    }

    [Test]
    public async Task SilenceIsATimeout()
    {
        using var server = new ScriptedServer(async c =>
        {
            await ScriptedServer.Handshake(c);
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(10));
        });
        await using var client = await Connect(server, new QmpClientOptions { CommandTimeout = TimeSpan.FromMilliseconds(150) });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.ThrowsAsync<QmpTimeoutException>(() => client.ExecuteAsync("x"));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
        Assert.That(client.IsConnected, Is.True);
    }

    [Test]
    public async Task WithoutAReaderAnUnansweredNegotiationIsNamedAsTheCommandMissingItsReply()
    {
        using var server = new ScriptedServer(async c =>
        {
            await c.SendLineAsync(ScriptedServer.Greeting());
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(10));
        });
        await using var client = await Connect(server, new QmpClientOptions { ReaderThread = false, CommandTimeout = TimeSpan.FromMilliseconds(150) });
        var e = Assert.ThrowsAsync<QmpTimeoutException>(() => client.ExecuteAsync("qom-get"));
        Assert.That(e!.Message, Does.StartWith("qmp_capabilities: no reply from "));
    }

    [Test]
    public async Task SilenceInsteadOfAGreetingIsATimeout()
    {
        using var server = new ScriptedServer(c => c.WaitForCloseAsync(TimeSpan.FromSeconds(10)));
        Assert.ThrowsAsync<QmpTimeoutException>(() => Connect(server, new QmpClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(200) }));
    }

    [Test]
    public async Task AHugeLineOverTheBoundIsAProtocolError()
    {
        using var server = new ScriptedServer(async c =>
        {
            await ScriptedServer.Handshake(c);
            await c.ReadRequestAsync();
            var huge = new byte[3 * 1024 * 1024];
            Array.Fill(huge, (byte)'x');
            await c.SendAsync(huge);
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server, new QmpClientOptions { MaxMessageBytes = 1024 * 1024 });
        var e = Assert.ThrowsAsync<QmpProtocolException>(() => client.ExecuteAsync("x"));
        Assert.That(e!.Message, Does.Contain("limit"));
    }

    [Test]
    public async Task AHugeLineUnderTheBoundArrivesWhole()
    {
        var value = new string('v', 5 * 1024 * 1024);
        using var server = new ScriptedServer(async c =>
        {
            await ScriptedServer.Handshake(c);
            var r = await c.ReadRequestAsync();
            await c.SendLineAsync($$"""{"return": "{{value}}", "id": {{r.Id}}}""");
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server);
        Assert.That((await client.ExecuteAsync("x")).ToElement().GetString(), Has.Length.EqualTo(value.Length));
    }

    [Test]
    public async Task NotAQmpServerIsAClearError()
    {
        using var server = new ScriptedServer(async c =>
        {
            await c.SendLineAsync("SSH-2.0-OpenSSH_9.2");
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        var e = Assert.ThrowsAsync<QmpProtocolException>(() => Connect(server));
        Assert.That(e!.Message, Does.Contain("JSON"));
    }

    [Test]
    public async Task RequestsAreCompactAndCarryNoId()
    {
        var seen = new TaskCompletionSource<string>();
        using var server = new ScriptedServer(async c =>
        {
            await ScriptedServer.Handshake(c);
            var r = await c.ReadRequestAsync();
            seen.SetResult(r.Json);
            await c.SendLineAsync($$"""{"return": {}, "id": {{r.Id}}}""");
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server);
        await client.ExecuteAsync("qom-get", w => { w.WriteString("path", "/machine"); w.WriteString("property", "hpet"); });
        Assert.That(await seen.Task.WaitAsync(TimeSpan.FromSeconds(5)),
            Is.EqualTo("""{"execute":"qom-get","arguments":{"path":"/machine","property":"hpet"}}"""));
    }

    [Test]
    public async Task SentAheadTheNextOpeningWaitsOnTheWireAndACommandWithoutItStillRuns()
    {
        var opening = new TaskCompletionSource<string>();
        var seen = new List<string>();
        using var server = new ScriptedServer(async c =>
        {
            await ScriptedServer.Handshake(c);
            // Before any command: the opening of the next one is there already.
            opening.SetResult(await c.PeekAsync(19));
            while (true)
            {
                var r = await c.ReadRequestAsync();
                lock (seen) seen.Add(r.Json);
                // As QEMU answers a request without "execute".
                await c.SendLineAsync(r.Execute == ""
                    ? """{"error": {"class": "GenericError", "desc": "QMP input lacks member 'execute'"}}"""
                    : $$"""{"return": "{{r.Execute}}"}""");
            }
        });
        await using var client = await Connect(server, new QmpClientOptions { SendAheadArgument = "path" });
        Assert.That(await opening.Task.WaitAsync(TimeSpan.FromSeconds(5)), Is.EqualTo("""{"arguments":{"path"""));

        async Task<string?> Run(string command, Action<System.Text.Json.Utf8JsonWriter>? args) =>
            (await client.ExecuteAsync(command, args)).ToElement().GetString();
        Assert.That(await Run("qom-get", w => { w.WriteString("path", "/machine"); w.WriteString("property", "hpet"); }), Is.EqualTo("qom-get"));
        Assert.That(await Run("query-status", null), Is.EqualTo("query-status"), "a command without a path gets its own reply");
        Assert.That(await Run("qom-list-get", w => { w.WriteStartArray("paths"); w.WriteStringValue("/machine"); w.WriteEndArray(); }),
            Is.EqualTo("qom-list-get"), "a name that begins with the one sent ahead fits it");
        Assert.That(await Run("device_del", w => w.WriteString("id", "nic0")), Is.EqualTo("device_del"));
        Assert.That(client.StrayReplies, Is.EqualTo(0), "the refusal of a closed opening is no stray reply");
        lock (seen) Assert.That(seen, Is.EqualTo(new[]
        {
            """{"arguments":{"path":"/machine","property":"hpet"},"execute":"qom-get"}""",
            """{"arguments":{"path":0}}""",
            """{"execute":"query-status"}""",
            """{"arguments":{"paths":["/machine"]},"execute":"qom-list-get"}""",
            """{"arguments":{"path":0}}""",
            """{"arguments":{"id":"nic0"},"execute":"device_del"}""",
        }));
    }

    [Test]
    public async Task SentAheadPipelinedCommandsGetTheirOwnRepliesAroundARefusedOpening()
    {
        using var server = new ScriptedServer(async c =>
        {
            await ScriptedServer.Handshake(c);
            // All three requests (and the closed opening among them) before any reply: the refusal comes second.
            var requests = new List<string>();
            for (var i = 0; i < 4; i++) requests.Add((await c.ReadRequestAsync()).Execute);
            foreach (var r in requests)
                await c.SendLineAsync(r == ""
                    ? """{"error": {"class": "GenericError", "desc": "QMP input lacks member 'execute'"}}"""
                    : $$"""{"return": "{{r}}"}""");
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server, new QmpClientOptions { SendAheadArgument = "path" });
        var calls = new[]
        {
            client.ExecuteAsync("qom-get", w => w.WriteString("path", "/machine")),
            client.ExecuteAsync("query-status"),
            client.ExecuteAsync("qom-list", w => w.WriteString("path", "/")),
        };
        var replies = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(replies.Select(r => r.ToElement().GetString()), Is.EqualTo(new[] { "qom-get", "query-status", "qom-list" }));
        Assert.That(client.StrayReplies, Is.EqualTo(0));
    }

    [TestCase("")]
    [TestCase("pa\"th")]
    [TestCase("path name")]
    public void SendingAheadTakesAnArgumentNameOnly(string name)
    {
        using var server = new ScriptedServer(c => ScriptedServer.Handshake(c));
        var e = Assert.ThrowsAsync<ArgumentException>(() => Connect(server, new QmpClientOptions { SendAheadArgument = name }));
        Assert.That(e!.Message, Does.Contain("SendAheadArgument"));
    }

    [Test]
    public async Task DisposingTheClientEndsItsReaderThread()
    {
        using var server = new ScriptedServer(async c =>
        {
            await ScriptedServer.Handshake(c);
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(10));
        });
        var before = ReaderThreads();
        var client = await Connect(server);
        var ours = ReaderThreads().Except(before).ToList();
        Assert.That(ours, Has.Count.EqualTo(1), "one reader thread per client");
        // It waits with no deadline: only the shutdown in Dispose can end that wait.
        client.Dispose();
        Wait.Until(() => !Directory.Exists($"/proc/self/task/{ours[0]}"), TimeSpan.FromSeconds(5), "the reader thread to end");
    }

    static List<string> ReaderThreads() =>
        [.. Directory.EnumerateDirectories("/proc/self/task")
            .Where(t => File.Exists(t + "/comm") && File.ReadAllText(t + "/comm").Trim() == "qmp reader")
            .Select(t => Path.GetFileName(t))];

    [Test]
    public async Task WithoutAReaderThreadTheCallerReadsItsReplyAndPassesEventsOn()
    {
        var late = new TaskCompletionSource();
        using var server = new ScriptedServer(async c =>
        {
            await ScriptedServer.Handshake(c);
            await c.ReadRequestAsync(); // "slow": answered only after the client gave up on it
            await late.Task;
            await c.ReadRequestAsync();
            await c.SendLineAsync("""{"return": "too late"}""");
            await c.SendLineAsync("""{"event": "RESUME", "timestamp": {"seconds": 1, "microseconds": 2}}""");
            await c.SendLineAsync("""{"return": "mine"}""");
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server, new QmpClientOptions { ReaderThread = false });
        using var events = client.SubscribeEvents();

        var e = Assert.ThrowsAsync<QmpTimeoutException>(() => client.ExecuteAsync("slow", timeout: TimeSpan.FromMilliseconds(100)));
        Assert.That(e!.Message, Does.Contain("slow"));
        late.SetResult();
        var reply = await client.ExecuteAsync("query-name");
        Assert.That(reply.ToElement().GetString(), Is.EqualTo("mine"));
        Assert.That(client.StrayReplies, Is.EqualTo(1), "the late reply took its turn and was dropped");
        Assert.That(events.Reader.TryRead(out var ev) ? ev.Name : null, Is.EqualTo("RESUME"));
        Assert.That(client.IsConnected, Is.True);
    }

    static string Nested(int depth) => new string('[', depth) + new string(']', depth);

    [Test]
    public async Task MessagesNestedDeepAreParsedWholeOrRefusedAsAProtocolError()
    {
        using var server = new ScriptedServer(async c =>
        {
            await ScriptedServer.Handshake(c);
            await c.ReadRequestAsync();
            await c.SendLineAsync($$$"""{"event": "DEEP", "data": {"a": {{{Nested(100)}}}}, "timestamp": {"seconds": 1, "microseconds": 2}}""");
            await c.SendLineAsync($$"""{"return": {{Nested(100)}}}""");
            await c.ReadRequestAsync();
            await c.SendLineAsync($$$"""{"event": "DEEPER", "data": {"a": {{{Nested(600)}}}}, "timestamp": {"seconds": 1, "microseconds": 2}}""");
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server);
        using var events = client.SubscribeEvents();

        // Deeper than System.Text.Json's default of 64: the event's data and the result parse as the message did.
        var result = (await client.ExecuteAsync("x")).ToElement();
        Assert.That(result.ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.Array));
        Assert.That(events.Reader.TryRead(out var deep) ? deep.Data.GetProperty("a").GetArrayLength() : -1, Is.EqualTo(1));

        // Past the client's bound: a typed error that closes the connection, not a crash of the reader thread.
        var e = Assert.ThrowsAsync<QmpProtocolException>(() => client.ExecuteAsync("y"));
        Assert.That(e!.Message, Does.Contain("invalid JSON"));
        Assert.That(client.IsConnected, Is.False);
    }
}
