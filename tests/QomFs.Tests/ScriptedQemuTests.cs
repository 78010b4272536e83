using System.Diagnostics;
using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>
/// Mounts of a scripted server, for what QEMU 7.2 will not do: descriptions and defaults in qom-list, and
/// qom-list-get (QEMU 10.1).
/// </summary>
[Category(Needs.Fuse), Category(Needs.Binary)]
public class ScriptedQemuTests
{
    [Test]
    public void DescriptionsAndDefaultsBecomeExtendedAttributes()
    {
        using var server = ScriptedServer.Qemu(r => r.Execute == "qom-list"
            ? """{"return": [{"name": "speed", "type": "uint32", "description": "link speed in Mb/s", "default-value": 1000}, {"name": "plain", "type": "str"}], "id": ID}"""
            : """{"return": "x", "id": ID}""");
        WithMount(server, mount =>
        {
            var r = ProcessRunner.Run("getfattr", ["-d", "--absolute-names", Path.Combine(mount, "speed"), Path.Combine(mount, "plain")]);
            Assert.That(r.StdOut, Does.Contain("user.qom.default-value=\"1000\"\nuser.qom.description=\"link speed in Mb/s\"\nuser.qom.type=\"uint32\"\n"));
            Assert.That(r.StdOut, Does.Contain("# file: " + Path.Combine(mount, "plain") + "\nuser.qom.type=\"str\"\n\n"));
        });
    }

    [Test]
    public void OnQemu101AListingIsOneQomListGetAndItsValuesAnswerTheReads()
    {
        var commands = new List<string>();
        using var server = ScriptedServer.Qemu(r =>
        {
            lock (commands) commands.Add(r.Execute + " " + r.Root.GetProperty("arguments").GetRawText());
            return (r.Execute, r.Json.Contains("\"/kid\"")) switch
            {
                ("qom-list-get", false) => """{"return": [{"properties": [{"name": "type", "type": "string", "value": "container"}, {"name": "speed", "type": "uint32", "value": 1000}, {"name": "name", "type": "str", "value": "hello"}, {"name": "kid", "type": "child<thing>", "value": "/kid"}, {"name": "peer", "type": "link<thing>", "value": "/kid"}, {"name": "bad", "type": "str"}]}], "id": ID}""",
                ("qom-list-get", true) => """{"return": [{"properties": [{"name": "type", "type": "string", "value": "thing"}]}], "id": ID}""",
                ("qom-list", _) => """{"return": [{"name": "speed", "type": "uint32", "description": "link speed in Mb/s"}], "id": ID}""",
                _ => """{"error": {"class": "GenericError", "desc": "Property 'container.bad' is not readable"}, "id": ID}""",
            };
        }, 10, 1);
        WithMount(server, mount =>
        {
            // Sizes are exact before anything is read: the listing brought the values.
            var sizes = ProcessRunner.Run("stat", ["-c", "%n %s", Path.Combine(mount, "speed"), Path.Combine(mount, "name")]);
            Assert.That(sizes.StdOut, Is.EqualTo($"{mount}/speed 5\n{mount}/name 6\n"), sizes.StdErr);
            Assert.That(File.ReadAllText(Path.Combine(mount, "speed")) + File.ReadAllText(Path.Combine(mount, "name")), Is.EqualTo("1000\nhello\n"));
            Assert.That(new FileInfo(Path.Combine(mount, "peer")).LinkTarget, Is.EqualTo("kid"));
            Assert.That(File.ReadAllText(Path.Combine(mount, "kid", "type")), Is.EqualTo("thing\n"));
            var bad = ProcessRunner.Run("cat", [Path.Combine(mount, "bad")]);
            Assert.That(bad.ExitCode != 0 && bad.StdErr.Contains("Permission denied"), Is.True, bad.StdErr);
            var description = ProcessRunner.Run("getfattr", ["-n", "user.qom.description", "--only-values", Path.Combine(mount, "speed")]);
            Assert.That(description.StdOut, Is.EqualTo("link speed in Mb/s"));
        });
        // Nothing read twice, and no qom-get but the one that says why a value is unreadable.
        Assert.That(commands, Is.EqualTo(new[]
        {
            """qom-list-get {"paths":["/"]}""",
            """qom-list-get {"paths":["/kid"]}""",
            """qom-get {"path":"/","property":"bad"}""",
            """qom-list {"path":"/"}""",
        }));
    }

    [Test]
    public void AStatWhileAFileIsFirstReadWaitsForTheValue()
    {
        // A QEMU that holds its reply to the qom-get until told: the read stays in flight while stat asks.
        var asked = new ManualResetEventSlim();
        var answer = new TaskCompletionSource();
        using var server = ScriptedServer.Qemu(async r =>
        {
            if (r.Execute == "qom-list") return """{"return": [{"name": "v", "type": "str"}], "id": ID}""";
            asked.Set();
            await answer.Task;
            return """{"return": "hi", "id": ID}""";
        });
        WithMount(server, mount =>
        {
            var file = Path.Combine(mount, "v");
            Assert.That(new FileInfo(file).Length, Is.EqualTo(QomFileSystem.UnreadSize));
            using var cat = ProcessRunner.Start("cat", [file]);
            Assert.That(asked.Wait(TimeSpan.FromSeconds(10)), Is.True, "cat's read to reach QEMU");
            // --cached=never: a GETATTR, although the attributes the kernel has are fresh.
            using var stat = ProcessRunner.Start("stat", ["--cached=never", "-c", "%s", file]);
            Wait.Until(() => stat.HasExited || Posix.WaitsInFuse(stat.Id), TimeSpan.FromSeconds(10), "stat to ask the daemon");
            answer.SetResult();
            Assert.That(ProcessRunner.Finish(cat, TimeSpan.FromSeconds(10)).StdOut, Is.EqualTo("hi\n"), "the value, not a page of it");
            Assert.That(ProcessRunner.Finish(stat, TimeSpan.FromSeconds(10)).StdOut, Is.EqualTo("3\n"));
        });
    }

    static void WithMount(ScriptedServer server, Action<string> use)
    {
        var mount = TempPaths.NewDirectory("fake");
        var daemon = Process.Start(new ProcessStartInfo(Qomfs.Binary, ["mount", "-f", "-s", server.SocketPath, mount]) { UseShellExecute = false, RedirectStandardError = true })!;
        try
        {
            Wait.Until(() => Mounts.IsMounted(mount), TimeSpan.FromSeconds(10), "the mount");
            use(mount);
        }
        finally
        {
            Posix.Kill(daemon.Id, 15);
            if (!daemon.WaitForExit(10_000)) daemon.Kill();
            TestContext.Out.WriteLine("daemon: " + daemon.StandardError.ReadToEnd());
            Mounts.Unmount(mount);
            daemon.Dispose();
        }
    }
}
