using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>
/// A mount's <c>.events</c> on each real QEMU: a reader that falls behind reads how many events it lost, and a
/// blocked cat is ended by Ctrl-C. (ProxyTests reads it once beside the proxy's clients, EventsTailTests follows it
/// with tail -f.)
/// </summary>
[Category(Needs.Qemu), Category(Needs.Fuse), Category(Needs.Binary)]
[NonParallelizable]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class EventsFileTests(QemuPeer peer)
{
    const int Queue = 256; // the events an open .events holds for its reader (ConnectionEntries)
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    MountedQemu _m = null!;
    string Events => _m.P("/.events");

    [OneTimeSetUp] public void Mount() => _m = MountedQemu.Start(peer, "events");
    [OneTimeTearDown] public void Unmount() => _m.Dispose();

    /// <summary>cat reading .events, whose output lines the test takes one at a time, each with a deadline.</summary>
    sealed class Reader : IDisposable
    {
        readonly Process _p;
        readonly BlockingCollection<string> _lines = [];

        public Reader(string file, params string[] args)
        {
            var psi = new ProcessStartInfo(Require.Tool(file, "the .events tests read it with real programs"))
            { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            _p = Process.Start(psi)!;
            _p.OutputDataReceived += (_, e) => { if (e.Data is { } l) _lines.Add(l); };
            _p.BeginOutputReadLine();
            _p.BeginErrorReadLine();
        }

        public Process Process => _p;

        public string NextLine()
        {
            if (!_lines.TryTake(out var line, Deadline)) Assert.Fail($"{_p.StartInfo.FileName} printed no line within {Deadline.TotalSeconds} s");
            return line!;
        }

        /// <summary>Waits until the program sits in read(2) on <paramref name="path"/>: only then does it see every event from now on.</summary>
        public void WaitUntilBlockedReading(string path) => Wait.Until(() => IsBlockedReading(_p.Id, path), Deadline, $"{_p.StartInfo.FileName} to block reading {path}");

        public void Dispose()
        {
            try { if (!_p.HasExited) _p.Kill(); } catch (InvalidOperationException) { }
            _p.WaitForExit(5000);
            _p.Dispose();
        }
    }

    // /proc/PID/syscall: "0 0xFD …" while in read(2) (x86_64's number 0) on descriptor FD.
    static bool IsBlockedReading(int pid, string path)
    {
        try
        {
            var call = File.ReadAllText($"/proc/{pid}/syscall").Split(' ');
            return call.Length > 1 && call[0] == "0" &&
                new FileInfo($"/proc/{pid}/fd/{Convert.ToInt32(call[1], 16)}").LinkTarget == path;
        }
        catch (IOException) { return false; }
    }

    static string EventName(string line) => JsonDocument.Parse(line).RootElement.GetProperty("event").GetString()!;

    static void Run(RawQmpClient c, string command)
    {
        c.Send($$"""{"execute": "{{command}}"}""");
        Assert.That(c.Reply(), Is.EqualTo("""{"return": {}}"""), command);
    }

    [Test]
    public void AReaderThatFallsBehindReadsHowManyEventsItLostThenTheNewestInOrder()
    {
        using var events = new FileStream(Events, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
        using var reader = new StreamReader(events);
        Assert.That(reader.ReadLine(), Does.StartWith("{\"QMP\": "), "QEMU's greeting first");
        using var c = new RawQmpClient(_m.P("/.qmp.sock"));
        const int pairs = 150; // 300 events, 44 more than the queue holds
        for (var i = 0; i < pairs; i++) { c.Send("""{"execute": "cont"}"""); c.Send("""{"execute": "stop"}"""); }
        for (var i = 0; i < 2 * pairs; i++) Assert.That(c.Reply(), Is.EqualTo("""{"return": {}}"""));

        Assert.That(reader.ReadLine(), Is.EqualTo($$"""{"dropped": {{2 * pairs - Queue}}}"""));
        var kept = Enumerable.Range(0, Queue).Select(_ => EventName(reader.ReadLine()!)).ToArray();
        // The oldest went: what is left starts with the 45th event, a RESUME, and alternates as they came.
        Assert.That(kept, Is.EqualTo(Enumerable.Range(2 * pairs - Queue, Queue).Select(i => i % 2 == 0 ? "RESUME" : "STOP")));

        // Caught up: the next read waits for the next event, and no marker comes before it.
        var next = Task.Run(reader.ReadLine);
        Assert.That(next.Wait(TimeSpan.FromMilliseconds(300)), Is.False, "a read with nothing queued waits");
        Run(c, "cont");
        Assert.That(next.Wait(Deadline), Is.True, "the read to return the event");
        Assert.That(EventName(next.Result!), Is.EqualTo("RESUME"));
        Run(c, "stop");
    }

    [Test]
    public void ABlockedCatEndsOnCtrlCAndTheMountKeepsWorking()
    {
        using var cat = new Reader("cat", Events);
        cat.WaitUntilBlockedReading(Events);
        Posix.Kill(cat.Process.Id, 2);
        Assert.That(cat.Process.WaitForExit(Deadline), Is.True, "cat to end on SIGINT");
        Assert.That(cat.Process.ExitCode, Is.EqualTo(128 + 2), "killed by the signal");

        Assert.That(File.ReadAllText(_m.P("/machine/type")), Is.EqualTo(peer.Q35MachineType + "\n"));
        using var again = new Reader("cat", Events);
        Assert.That(again.NextLine(), Does.StartWith("{\"QMP\": "), "QEMU's greeting first");
        again.WaitUntilBlockedReading(Events);
        using var c = new RawQmpClient(_m.P("/.qmp.sock"));
        Run(c, "cont");
        Run(c, "stop");
        Assert.That((EventName(again.NextLine()), EventName(again.NextLine())), Is.EqualTo(("RESUME", "STOP")));
    }
}
