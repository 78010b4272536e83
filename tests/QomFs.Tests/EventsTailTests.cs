using System.Diagnostics;
using System.Text;
using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>
/// `tail -f MOUNT/.events`, with no options, as users write it: it prints QEMU's greeting and then each event as it
/// comes, for two followers at once. tail reads a file empty at its open as a pipe (to an end that never comes), and
/// one it can seek in by re-reading and watching the size: .events gives it both (see EventStream).
/// </summary>
[Category(Needs.Qemu), Category(Needs.Fuse), Category(Needs.Binary)]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class EventsTailTests(QemuPeer peer)
{
    MountedQemu _m = null!;

    [OneTimeSetUp] public void Mount() => _m = MountedQemu.Start(peer, "events");
    [OneTimeTearDown] public void Unmount() => _m.Dispose();

    sealed class Follower : IDisposable
    {
        readonly Process _tail;
        readonly List<string> _lines = [];

        public Follower(string file)
        {
            var psi = new ProcessStartInfo("tail", ["-f", file]) { RedirectStandardOutput = true, RedirectStandardInput = true };
            _tail = Process.Start(psi)!;
            _tail.OutputDataReceived += (_, e) => { if (e.Data is { } l) lock (_lines) _lines.Add(l); };
            _tail.BeginOutputReadLine();
        }

        public string[] Lines { get { lock (_lines) return [.. _lines]; } }

        public void Dispose()
        {
            _tail.Kill();
            _tail.WaitForExit(10_000);
            _tail.Dispose();
        }
    }

    void Shell(string commands)
    {
        var r = Qomfs.Run("qmp-shell", [_m.P("/.qmp.sock")], TimeSpan.FromSeconds(10), stdin: Encoding.UTF8.GetBytes(commands));
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
    }

    [Test]
    public void TwoPlainTailFollowersPrintTheGreetingThenEachEventAsItComes()
    {
        using var first = new Follower(_m.P("/.events"));
        using var second = new Follower(_m.P("/.events"));
        foreach (var f in new[] { first, second })
            Wait.Until(() => f.Lines.Length == 1, TimeSpan.FromSeconds(10), "tail's first line, QEMU's greeting");
        foreach (var f in new[] { first, second })
            Assert.That(f.Lines[0], Does.StartWith("{\"QMP\": ").And.Contain($"\"minor\": {peer.Minor}, \"major\": {peer.Major}}}"));

        Shell("cont\nstop\n");
        // tail polls the size once a second; then each line comes as QEMU sends it.
        foreach (var f in new[] { first, second })
            Wait.Until(() => f.Lines.Length == 3, TimeSpan.FromSeconds(10), "RESUME and STOP");
        Shell("cont\n");
        foreach (var f in new[] { first, second })
        {
            Wait.Until(() => f.Lines.Length == 4, TimeSpan.FromSeconds(10), "the second RESUME");
            Assert.That(f.Lines.Skip(1).Select(l => l[(l.IndexOf("\"event\": ", StringComparison.Ordinal) + 9)..]),
                Is.EqualTo(new[] { "\"RESUME\"}", "\"STOP\"}", "\"RESUME\"}" }));
        }
        Shell("stop\n"); // as the fixture found it
    }
}
