using System.Diagnostics;
using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>A mount of a scripted server, for what QEMU 7.2 will not do: descriptions and defaults in qom-list.</summary>
public class ScriptedQemuTests
{
    [Test]
    public void DescriptionsAndDefaultsBecomeExtendedAttributes()
    {
        using var server = new ScriptedServer(async c =>
        {
            await ScriptedServer.Handshake(c);
            while (true)
            {
                var r = await c.ReadRequestAsync();
                var reply = r.Execute == "qom-list"
                    ? """[{"name": "speed", "type": "uint32", "description": "link speed in Mb/s", "default-value": 1000}, {"name": "plain", "type": "str"}]"""
                    : "\"x\"";
                await c.SendLineAsync($$"""{"return": {{reply}}, "id": {{r.Id}}}""");
            }
        });
        var mount = TempPaths.NewDirectory("fake");
        var daemon = Process.Start(new ProcessStartInfo(Qomfs.Binary, ["mount", "-f", "-s", server.SocketPath, mount]) { UseShellExecute = false, RedirectStandardError = true })!;
        try
        {
            Wait.Until(() => Mounts.IsMounted(mount), TimeSpan.FromSeconds(10), "the mount");
            var r = ProcessRunner.Run("getfattr", ["-d", "--absolute-names", Path.Combine(mount, "speed"), Path.Combine(mount, "plain")]);
            Assert.That(r.StdOut, Does.Contain("user.qom.default-value=\"1000\"\nuser.qom.description=\"link speed in Mb/s\"\nuser.qom.type=\"uint32\"\n"));
            Assert.That(r.StdOut, Does.Contain("# file: " + Path.Combine(mount, "plain") + "\nuser.qom.type=\"str\"\n\n"));
        }
        finally
        {
            Posix.Kill(daemon.Id, 15);
            if (!daemon.WaitForExit(10_000)) daemon.Kill();
            Mounts.Unmount(mount);
            daemon.Dispose();
        }
    }
}
