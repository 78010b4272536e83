using System.Diagnostics;
using System.Text;
using QomFs.Qmp.Qga;
using QomFs.Testing;

namespace QomFs.Qmp.Tests.Qga;

/// <summary>What a real qemu-ga on this host must not or cannot do, from a scripted agent.</summary>
public class FakeAgentTests
{
    static readonly TimeSpan Short = TimeSpan.FromMilliseconds(300);

    static Task<QgaClient> Connect(ScriptedServer s, QgaClientOptions? o = null) =>
        QgaClient.ConnectAsync(QmpAddress.Unix(s.SocketPath), o);

    static async Task Reply(ScriptedConnection c, string command, string json)
    {
        var r = await c.ReadRequestAsync();
        Assert.That(r.Execute, Is.EqualTo(command));
        await c.SendLineAsync(FakeGuestAgent.Return(r, json));
    }

    [Test]
    public async Task GarbageBeforeTheDelimiterIsDiscarded()
    {
        using var server = new ScriptedServer(async c =>
        {
            // What an earlier client may have left: half replies, binary, newlines, even a bogus 0xFF-less sync reply.
            byte[] garbage = [.. "{\"return\": {\"half\": \n"u8, 0x00, 0xC3, 0x28, (byte)'\n', .. "{\"return\": 7}\n"u8];
            await FakeGuestAgent.AnswerSyncAsync(c, garbage);
            await FakeGuestAgent.AnswerInfoAsync(c, ["guest-ping"]);
            await Reply(c, "guest-ping", "{}");
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server);
        Assert.That((await client.PingAsync()).ToString(), Is.EqualTo("{}"));
        Assert.That(client.IsConnected, Is.True);
    }

    [Test]
    public async Task StaleRepliesAreSkippedUntilTheIdsMatch()
    {
        using var server = new ScriptedServer(async c =>
        {
            var sync = await c.ReadRequestAsync();
            var id = sync.Root.GetProperty("arguments").GetProperty("id").GetInt64();
            // An earlier client's sync reply, an earlier client's command reply, then ours.
            await c.SendAsync([0xFF, .. Encoding.UTF8.GetBytes($$"""{"return": {{id + 1}}}""" + "\n")]);
            await c.SendAsync([0xFF, .. "{\"return\": {\"old\": true}}\n"u8]);
            await c.SendAsync([0xFF, .. Encoding.UTF8.GetBytes($$"""{"return": {{id}}}""" + "\n")]);
            await FakeGuestAgent.AnswerInfoAsync(c, ["guest-get-host-name"]);
            var r = await c.ReadRequestAsync();
            await c.SendLineAsync("""{"return": {"host-name": "stale"}, "id": 424242}""");
            await c.SendLineAsync(FakeGuestAgent.Return(r, """{"host-name": "fresh"}"""));
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server);
        var host = (await client.ExecuteAsync("guest-get-host-name")).ToElement().GetProperty("host-name").GetString();
        Assert.That(host, Is.EqualTo("fresh"));
        Assert.That(client.StaleReplies, Is.EqualTo(3));
    }

    [Test]
    public void SilenceTimesOutWithinTheTimeoutIncludingTheSync()
    {
        using var server = new ScriptedServer(c => c.WaitForCloseAsync(TimeSpan.FromSeconds(10)));
        var clock = Stopwatch.StartNew();
        var e = Assert.ThrowsAsync<QmpTimeoutException>(() => Connect(server, new QgaClientOptions { Timeout = Short }));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
        Assert.That(e!.Message, Does.Contain("within 0.3 s"));
    }

    [Test]
    public async Task AfterATimeoutTheNextCommandResyncsAndSkipsTheLateReply()
    {
        var syncs = 0;
        using var server = new ScriptedServer(async c =>
        {
            await FakeGuestAgent.AnswerSyncAsync(c);
            Interlocked.Increment(ref syncs);
            await FakeGuestAgent.AnswerInfoAsync(c, ["guest-get-osinfo", "guest-get-host-name"]);
            var slow = await c.ReadRequestAsync();
            Assert.That(slow.Execute, Is.EqualTo("guest-get-osinfo"));
            // No reply until the client has given up and resynced; then the late reply, then the sync's.
            var sync = await c.ReadRequestAsync();
            Assert.That(sync.Execute, Is.EqualTo("guest-sync-delimited"));
            Interlocked.Increment(ref syncs);
            await c.SendLineAsync(FakeGuestAgent.Return(slow, """{"id": "late"}"""));
            await c.SendAsync([0xFF, .. Encoding.UTF8.GetBytes($$"""{"return": {{sync.Root.GetProperty("arguments").GetProperty("id").GetInt64()}}}""" + "\n")]);
            await Reply(c, "guest-get-host-name", """{"host-name": "after"}""");
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server);
        Assert.ThrowsAsync<QmpTimeoutException>(() => client.ExecuteAsync("guest-get-osinfo", timeout: Short));
        var host = (await client.ExecuteAsync("guest-get-host-name")).ToElement().GetProperty("host-name").GetString();
        Assert.That(host, Is.EqualTo("after"));
        Assert.That(syncs, Is.EqualTo(2));
    }

    [Test]
    public async Task FreezeStatusAndThaw()
    {
        using var server = new ScriptedServer(async c =>
        {
            await FakeGuestAgent.StartAsync(c, "guest-fsfreeze-freeze", "guest-fsfreeze-status", "guest-fsfreeze-thaw");
            await Reply(c, "guest-fsfreeze-freeze", "2");
            await Reply(c, "guest-fsfreeze-status", "\"frozen\"");
            await Reply(c, "guest-fsfreeze-thaw", "2");
            await Reply(c, "guest-fsfreeze-status", "\"thawed\"");
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server);
        Assert.That((await client.ExecuteAsync("guest-fsfreeze-freeze", timeout: TimeSpan.FromSeconds(60))).ToString(), Is.EqualTo("2"));
        Assert.That((await client.ExecuteAsync("guest-fsfreeze-status")).ToString(), Is.EqualTo("\"frozen\""));
        Assert.That((await client.ExecuteAsync("guest-fsfreeze-thaw")).ToString(), Is.EqualTo("2"));
        Assert.That((await client.ExecuteAsync("guest-fsfreeze-status")).ToString(), Is.EqualTo("\"thawed\""));
    }

    public enum Ending { AgentMovesOn, ConnectionCloses, Silence }

    [TestCase("guest-shutdown", Ending.AgentMovesOn)]
    [TestCase("guest-shutdown", Ending.ConnectionCloses)]
    [TestCase("guest-shutdown", Ending.Silence)]
    [TestCase("guest-suspend-ram", Ending.ConnectionCloses)]
    [TestCase("guest-suspend-disk", Ending.Silence)]
    [TestCase("guest-suspend-hybrid", Ending.AgentMovesOn)]
    public async Task CommandsWithoutAReplySucceedWhenNothingComesBack(string command, Ending ending)
    {
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = new ScriptedServer(async c =>
        {
            await FakeGuestAgent.StartAsync(c, command);
            var r = await c.ReadRequestAsync();
            received.TrySetResult(r.Json);
            switch (ending)
            {
                case Ending.ConnectionCloses: c.Close(); return;
                case Ending.AgentMovesOn:
                    var marker = await c.ReadRequestAsync();
                    await c.SendAsync([0xFF, .. Encoding.UTF8.GetBytes($$"""{"return": {{marker.Root.GetProperty("arguments").GetProperty("id").GetInt64()}}}""" + "\n")]);
                    break;
            }
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        // Only silence costs the whole timeout; a close or the agent's next reply answers without waiting for it,
        // which a timeout far longer than any machine's delay tells apart.
        var timeout = TimeSpan.FromSeconds(ending == Ending.Silence ? 1 : 20);
        await using var client = await Connect(server, new QgaClientOptions { Timeout = timeout });
        var clock = Stopwatch.StartNew();
        await client.ExecuteNoReplyAsync(command, command == "guest-shutdown" ? w => w.WriteString("mode"u8, "reboot") : null);
        Assert.That(await received.Task.WaitAsync(TimeSpan.FromSeconds(5)), Does.Contain(command));
        Assert.That(clock.Elapsed, ending == Ending.Silence ? Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(0.9)) : Is.LessThan(timeout / 2));
    }

    [Test]
    public async Task ACommandWithoutAReplyThatFailsIsRefused()
    {
        using var server = new ScriptedServer(async c =>
        {
            await FakeGuestAgent.StartAsync(c, "guest-suspend-ram");
            var r = await c.ReadRequestAsync();
            await c.SendLineAsync($$"""{"error": {"class": "GenericError", "desc": "suspend not supported"}, "id": {{r.Id}}}""");
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server);
        var e = Assert.ThrowsAsync<QmpCommandException>(() => client.ExecuteNoReplyAsync("guest-suspend-ram"));
        Assert.That(e!.Description, Is.EqualTo("suspend not supported"));
    }

    [Test]
    public async Task ADisabledCommandIsReportedWithoutBeingSent()
    {
        var requests = new List<string>();
        using var server = new ScriptedServer(async c =>
        {
            await FakeGuestAgent.AnswerSyncAsync(c);
            await FakeGuestAgent.AnswerInfoAsync(c, ["guest-ping"], ["guest-exec"]);
            var r = await c.ReadRequestAsync();
            lock (requests) requests.Add(r.Execute);
            await c.SendLineAsync(FakeGuestAgent.Return(r, "{}"));
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server);
        var e = Assert.ThrowsAsync<QmpCommandException>(() => client.ExecuteAsync("guest-exec"));
        Assert.That(e!.ErrorClass, Is.EqualTo(QgaClient.DisabledErrorClass));
        Assert.That(e.Description, Is.EqualTo("the guest agent has disabled guest-exec"));
        await client.PingAsync();
        lock (requests) Assert.That(requests, Is.EqualTo(new[] { "guest-ping" }));
    }

    [Test]
    public async Task AHundredMegabyteReplyIsRefusedWithBoundedMemory()
    {
        using var server = new ScriptedServer(async c =>
        {
            await FakeGuestAgent.StartAsync(c, "guest-file-read");
            await c.ReadRequestAsync();
            await c.SendAsync("{\"return\": {\"count\": 1, \"buf-b64\": \""u8.ToArray());
            var chunk = Encoding.ASCII.GetBytes(new string('A', 1 << 20));
            for (var i = 0; i < 100; i++) await c.SendAsync(chunk);
            await c.SendLineAsync("\"}}");
        });
        // A small bound makes the point sharply: 100 MB arrive, a few MB are ever held.
        await using var client = await Connect(server, new QgaClientOptions { MaxReplyBytes = 4 << 20 });
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var e = Assert.ThrowsAsync<QmpProtocolException>(() => client.ExecuteAsync("guest-file-read",
            w => w.WriteNumber("handle"u8, 1), timeout: TimeSpan.FromSeconds(20)));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.That(e!.Message, Does.Contain("exceeds the limit of 4194304 bytes"));
        Assert.That(allocated, Is.LessThan(30L << 20), "the reply must not be buffered whole");
        Assert.That(client.IsConnected, Is.False);
    }

    [Test]
    public async Task InvalidBase64IsAClearErrorAndTheHandleIsStillClosed()
    {
        var closed = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = new ScriptedServer(async c =>
        {
            await FakeGuestAgent.StartAsync(c, "guest-file-open", "guest-file-read", "guest-file-close");
            await Reply(c, "guest-file-open", "1000");
            await Reply(c, "guest-file-read", """{"count": 4, "buf-b64": "not*base64!", "eof": false}""");
            var close = await c.ReadRequestAsync();
            closed.TrySetResult(close.Execute == "guest-file-close" ? close.Root.GetProperty("arguments").GetProperty("handle").GetInt64() : -1);
            await c.SendLineAsync(FakeGuestAgent.Return(close, "{}"));
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server);
        var e = Assert.ThrowsAsync<QmpProtocolException>(() => client.CopyFromGuestAsync("/etc/motd", Stream.Null));
        Assert.That(e!.Message, Is.EqualTo("the guest agent's reply to guest-file-read is malformed: 'buf-b64' is not valid base64"));
        Assert.That(await closed.Task.WaitAsync(TimeSpan.FromSeconds(5)), Is.EqualTo(1000));
    }

    [Test]
    public async Task MoreDataThanAskedForIsRefused()
    {
        using var server = new ScriptedServer(async c =>
        {
            await FakeGuestAgent.StartAsync(c, "guest-file-open", "guest-file-read", "guest-file-close");
            await Reply(c, "guest-file-open", "5");
            await Reply(c, "guest-file-read", """{"count": 8, "buf-b64": "AAAAAAAAAAA=", "eof": true}""");
            await Reply(c, "guest-file-close", "{}");
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server);
        var e = Assert.ThrowsAsync<QmpProtocolException>(() => client.CopyFromGuestAsync("/x", Stream.Null, chunkBytes: 4));
        Assert.That(e!.Message, Does.Contain("more than the 4 asked for"));
    }

    [Test]
    public async Task InvalidUtf8IsAClearErrorNotACrash()
    {
        using var server = new ScriptedServer(async c =>
        {
            await FakeGuestAgent.StartAsync(c, "guest-get-host-name");
            var r = await c.ReadRequestAsync();
            await c.SendAsync([.. "{\"return\": {\"host-name\": \"a"u8, 0xC3, 0x28, 0xFE, .. "\"}}\n"u8]);
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server);
        var e = Assert.ThrowsAsync<QmpProtocolException>(() => client.ExecuteAsync("guest-get-host-name"));
        Assert.That(e!.Message, Is.EqualTo("the guest agent's reply to guest-get-host-name is not valid UTF-8"));
    }

    [TestCase("[1, 2]")]
    [TestCase("{\"return\": ")]
    [TestCase("\u0001\u0002 binary")]
    public async Task MalformedRepliesAreProtocolErrors(string line)
    {
        using var server = new ScriptedServer(async c =>
        {
            await FakeGuestAgent.StartAsync(c, "guest-ping");
            await c.ReadRequestAsync();
            await c.SendLineAsync(line);
            await c.WaitForCloseAsync(TimeSpan.FromSeconds(5));
        });
        await using var client = await Connect(server);
        Assert.ThrowsAsync<QmpProtocolException>(() => client.PingAsync());
        Assert.That(client.IsConnected, Is.False);
    }
}
