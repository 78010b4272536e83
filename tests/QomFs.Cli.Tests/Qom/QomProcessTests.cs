using QomFs.Testing;

namespace QomFs.Cli.Tests.Qom;

/// <summary>What a one-shot qom command costs as a process, checked while it runs.</summary>
[Category(Needs.Binary)]
public class QomProcessTests
{
    [Test]
    public void QomGetStartsNoSocketEngineThread()
    {
        string[] threads = [];
        using var server = new ScriptedServer(async c =>
        {
            await ScriptedServer.Handshake(c);
            await c.ReadRequestAsync();
            // The client waits for this reply: every thread it will have is running now.
            threads = Directory.GetDirectories($"/proc/{c.PeerPid}/task")
                .Select(t => File.ReadAllText(Path.Combine(t, "comm")).TrimEnd('\n')).ToArray();
            await c.SendLineAsync("""{"return": "q35"}""");
        });
        var r = Qomfs.Run("qom-get", ["-s", server.SocketPath, "/machine.type"], TimeSpan.FromSeconds(20));
        Assert.That(r.StdOut, Is.EqualTo("q35\n"), r.StdErr);
        Assert.That(threads, Is.Not.Empty, "the script never saw the client's threads");
        // .NET's socket engine is an epoll thread that a blocking one-shot client has no use for.
        Assert.That(threads, Has.None.EqualTo(".NET Sockets"));
    }
}
