using System.Diagnostics;
using System.Text;
using QomFs.Testing;

namespace QomFs.Qmp.Tests;

/// <summary>
/// Ten thousand generated and mutated server messages, each sent ahead of the real reply to a pending command:
/// every call must end in a success or a typed error, within a deadline, and the client must never crash.
/// </summary>
public class FuzzTests
{
    const int Cases = 10_000;

    // What a mutation puts in: JSON's structural characters first (an insertion takes only those), then others.
    const string Flips = "{}[]\":,\\ 0aZ\u00ff";
    const int Structural = 8;

    static readonly string[] Valid =
    [
        """{"return": {"status": "running", "singlestep": false, "running": true}, "id": ID}""",
        """{"return": [{"name": "type", "type": "string"}, {"name": "kid", "type": "child<x>"}], "id": ID}""",
        """{"error": {"class": "GenericError", "desc": "Property 'x.y' not found"}, "id": ID}""",
        """{"event": "STOP", "timestamp": {"seconds": 1732550000, "microseconds": 123456}}""",
        """{"event": "DEVICE_DELETED", "data": {"device": "net0", "path": "/machine/peripheral/net0"}, "timestamp": {"seconds": 1, "microseconds": 2}}""",
        """{"return": "a string with \"quotes\" and \u00e9", "id": ID}""",
        """{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": []}}""",
    ];

    static string Generate(Random r, string id)
    {
        var baseText = Valid[r.Next(Valid.Length)].Replace("ID", r.Next(4) switch { 0 => id, 1 => "99999", 2 => "\"" + id + "\"", _ => id + ".0" });
        switch (r.Next(12))
        {
            case 0: return baseText;                                                  // well-formed, maybe a wrong id
            case 1: return baseText[..r.Next(baseText.Length)];                       // truncated
            case 2: return baseText.Replace(", \"id\": " + id, "");                   // no id
            case 3: return RandomBytes(r);                                            // garbage
            case 4: return new[] { "[]", "42", "\"s\"", "null", "true", "{}", "{\"id\": 1}" }[r.Next(7)]; // not a message
            case 5: return baseText.Replace("\"desc\"", "\"dsc\"").Replace("\"class\"", "\"klass\""); // missing fields
            case 6: return baseText.Replace("\"event\": \"STOP\"", "\"event\": 7").Replace("\"seconds\": 1", "\"seconds\": \"x\"");  // wrong types
            case 7: return new string('[', r.Next(400, 1200)) + new string(']', 3);   // too deep
            case 8: return "";                                                         // empty line
            default:                                                                   // mutated: flip, insert or delete characters
                var chars = baseText.ToCharArray().ToList();
                for (var k = r.Next(1, 4); k > 0 && chars.Count > 0; k--)
                {
                    var at = r.Next(chars.Count);
                    switch (r.Next(3))
                    {
                        case 0: chars[at] = Flips[r.Next(Flips.Length)]; break;
                        case 1: chars.Insert(at, Flips[r.Next(Structural)]); break;
                        default: chars.RemoveAt(at); break;
                    }
                }
                return new string(chars.ToArray());
        }
    }

    static string RandomBytes(Random r)
    {
        var b = new byte[r.Next(1, 64)];
        r.NextBytes(b);
        return Encoding.Latin1.GetString(b).Replace("\n", "");
    }

    [Test, Category(Needs.Soak)]
    public async Task TenThousandMessagesZeroCrashesZeroHangs()
    {
        var random = new Random(20261125);
        var sent = 0;
        using var server = new ScriptedServer(async c =>
        {
            await ScriptedServer.Handshake(c);
            while (true)
            {
                var request = await c.ReadRequestAsync();
                string message;
                lock (random) message = Generate(random, request.Id!);
                Interlocked.Increment(ref sent);
                // Sometimes a huge line, over the client's bound.
                if (random.Next(2000) == 0) message = "{\"return\": \"" + new string('x', 300_000) + "\"}";
                await c.SendAsync(Encoding.UTF8.GetBytes(message + "\n"));
                if (random.Next(4) == 0) await c.SendLineAsync("""{"event": "RESUME", "timestamp": {"seconds": 1, "microseconds": 0}}""");
                await c.SendLineAsync($$"""{"return": {"ok": true}, "id": {{request.Id}}}""");
            }
        });

        var options = new QmpClientOptions { CommandTimeout = TimeSpan.FromSeconds(2), MaxMessageBytes = 256 * 1024 };
        QmpClient? client = null;
        int ok = 0, refused = 0, protocol = 0, connection = 0, timeouts = 0, calls = 0;
        var slowest = TimeSpan.Zero;
        try
        {
            for (var i = 0; Volatile.Read(ref sent) < Cases; i++)
            {
                if (client is null || !client.IsConnected)
                {
                    client?.Dispose();
                    client = await QmpClient.ConnectAsync(QmpAddress.Unix(server.SocketPath), options);
                    _ = client.SubscribeEvents(capacity: 4);
                }
                calls++;
                var clock = Stopwatch.StartNew();
                var call = client.ExecuteAsync("query-status");
                var finished = await Task.WhenAny(call, Task.Delay(TimeSpan.FromSeconds(5)));
                Assert.That(finished, Is.SameAs(call), $"case {i} hangs");
                slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
                try { await call; ok++; }
                catch (QmpCommandException) { refused++; }
                catch (QmpProtocolException) { protocol++; }
                catch (QmpConnectionException) { connection++; }
                catch (QmpTimeoutException) { timeouts++; }
            }
        }
        finally { client?.Dispose(); }

        TestContext.Out.WriteLine($"ok {ok}, refused {refused}, protocol {protocol}, connection {connection}, timeouts {timeouts}, slowest {slowest.TotalMilliseconds:0} ms");
        Assert.That(sent, Is.GreaterThanOrEqualTo(Cases));
        Assert.That(ok + refused + protocol + connection + timeouts, Is.EqualTo(calls), "every call ended in a success or a typed error");
        Assert.That(ok, Is.GreaterThan(Cases / 4), "most well-framed cases still get their reply");
        Assert.That(protocol, Is.GreaterThan(Cases / 10), "broken messages are protocol errors");
    }
}
