using QomFs.Qmp;
using QomFs.Qom;
using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>
/// A cold walk through a real mount, with the commands QEMU ran counted by a relay between them: the daemon sends each
/// walk's next command ahead (QmpClient.Anticipate), and QEMU must still run exactly the commands the reads need, each
/// once, with every reply reaching its own read.
/// </summary>
[Category(Needs.Qemu), Category(Needs.Fuse), Category(Needs.Binary)]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class WalkCommandsTests(QemuPeer peer)
{
    [Test]
    public async Task FindThenCatOfWhatItPrintedRunsOneListingPerObjectAndOneQomGetPerValueTheListingsLacked()
    {
        using var qemu = QemuProcess.Start(peer);
        await using var check = await QmpClient.ConnectAsync(QmpAddress.Unix(qemu.SecondSocket));
        var (objects, unvalued, before) = await Reference(check);

        using var relay = new QmpRelay(qemu.QmpSocket);
        using var m = ForegroundMount.Start("-s", relay.SocketPath, "-o", "cache_ttl=60,qmp_proxy=none");
        relay.Take(); // the negotiation, and the root's listing the mount made

        var find = ProcessRunner.Run("find", [m.P("/machine"), "-type", "f", "-print0"], TimeSpan.FromSeconds(60));
        Assert.That(find.ExitCode, Is.EqualTo(0), find.StdErr);
        var files = find.StdOut.Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var listing = peer.HasQomListGet ? "qom-list-get" : "qom-list";
        Assert.That(relay.Take().Commands, Is.EqualTo(new Dictionary<string, int> { [listing] = objects }), "the walk of find");

        // As cat reads what find printed: one file after the other, in find's order.
        var read = new Dictionary<string, string?>();
        foreach (var f in files)
        {
            try { read[f] = File.ReadAllText(f); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { read[f] = null; } // QEMU cannot read it
        }
        var gets = relay.Take().Commands.GetValueOrDefault("qom-get");
        Assert.That(gets, Is.EqualTo(peer.HasQomListGet ? unvalued : files.Length), "the reads of cat");

        // Every value is the one QEMU gives, where it gave the same before the walk and after it (a clock's moves).
        Assert.That(read.Keys.Select(f => f[m.Mount.Length..]), Is.EquivalentTo(before.Keys), "the files are the properties");
        var compared = 0;
        foreach (var (f, text) in read)
        {
            var qom = f[m.Mount.Length..];
            if (before[qom] is not { } value || value != await Get(check, qom)) continue;
            Assert.That(text, Is.EqualTo(value), qom);
            compared++;
        }
        Assert.That(compared, Is.GreaterThan(files.Length * 9 / 10));
    }

    static async Task<string?> Get(QmpClient qmp, string file)
    {
        try { return ValueCodec.FormatText((await new QomClient(qmp).GetAsync(QomPath.Parent(file), QomPath.Name(file))).Json.Span); }
        catch (QmpCommandException) { return null; }
    }

    // The objects under /machine (and the root, which the mount lists to find it), the values that qom-list-get gives
    // none of (QEMU 11; each costs a qom-get when read), and every file's value by its QOM path (null: unreadable).
    async Task<(int Objects, int Unvalued, Dictionary<string, string?> Values)> Reference(QmpClient qmp)
    {
        int objects = 1, unvalued = 0;
        Dictionary<string, string?> values = [];
        var queue = new Queue<string>(["/machine"]);
        var qom = new QomClient(qmp);
        while (queue.TryDequeue(out var path))
        {
            objects++;
            var listed = peer.HasQomListGet
                ? (await qom.ListGetAsync([path]))![0].Properties.Select(v => (v.Name, v.Type, Valued: v.Value is not null))
                : (await qom.ListAsync(path)).Select(p => (p.Name, p.Type, Valued: false));
            foreach (var (name, type, valued) in listed)
            {
                var file = QomPath.Combine(path, name);
                switch (QomProperty.KindOf(type))
                {
                    case QomPropertyKind.Child: queue.Enqueue(file); break;
                    case QomPropertyKind.Value:
                        values[file] = await Get(qmp, file);
                        if (peer.HasQomListGet && !valued) unvalued++;
                        break;
                }
            }
        }
        return (objects, unvalued, values);
    }
}
