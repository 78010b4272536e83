using System.Globalization;
using QomFs.Testing;

namespace QomFs.Bench;

/// <summary>
/// The libvirt rows: one qom-get through the libvirt transport against virsh qemu-monitor-command for the same command
/// (whole commands as processes, alternated so that both see the same minutes), and a cold dump through a libvirt mount
/// against the raw socket floor of the same QEMU (a second QMP socket of its own, beside libvirt's monitor); on each
/// QEMU, as libvirtd runs it (QEMU 11 through the test bed's emulator wrapper).
/// </summary>
static class LibvirtRows
{
    public static void Add(Table table, string qomfs, int runs, bool smoke, Action<string> say)
    {
        LibvirtDaemon.Ensure();
        foreach (var peer in smoke ? [QemuPeer.Qemu72] : QemuPeer.All) Add(table, qomfs, runs, smoke, say, peer);
    }

    static void Add(Table table, string qomfs, int runs, bool smoke, Action<string> say, QemuPeer peer)
    {
        var socket = TempPaths.NewSocket("floor");
        using var domain = LibvirtDomain.Start("bench", peer, extraQmpSocket: socket);
        using var raw = new RawQmp(socket);
        var version = raw.Version;
        say($"libvirt {domain.Name}: QEMU {version}");

        // Paired: line a runs ours, line b virsh, one after the other, for the same command.
        var ours = $"'{Path.Combine(Path.GetDirectoryName(qomfs)!, "qom-get")}' -s '{domain.Address}' /machine.hpet";
        var virsh = $"virsh -c '{LibvirtDaemon.Uri}' qemu-monitor-command '{domain.Name}' " +
                    "'{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/machine\",\"property\":\"hpet\"}}'";
        var pairs = Measure.EachLine(Enumerable.Range(0, smoke ? 3 : 20).SelectMany(_ => new[] { "a", "b" }),
            $"if [ \"$f\" = a ]; then {ours}; else {virsh}; fi");
        var qomGet = pairs.Where((_, i) => i % 2 == 0).ToList();
        var virshGet = pairs.Where((_, i) => i % 2 == 1).ToList();
        table.Add(new Row("libvirt: qom-get /machine.hpet (CLI process)", "plain", Unit.Millis, qomGet)
        {
            Qemu = version, Commands = "1 qom-get",
            Note = $"{Measure.Median(qomGet) / Measure.Median(virshGet):0.00}× virsh, paired",
        });
        table.Add(new Row("libvirt: virsh qemu-monitor-command, same qom-get", "plain", Unit.Millis, virshGet) { Qemu = version, Commands = "1 qom-get" });

        List<double> floor = [], cold = [];
        var dumpCommand = "find '{0}/machine' -type f -print0 | xargs -0 cat";
        var listGet = peer.HasQomListGet;
        raw.WalkTree("/machine", values: true, listGet: listGet); // warms QEMU up, as the socket rows do
        for (var run = 1; run <= runs; run++)
        {
            say($"libvirt: cold dump run {run}/{runs}");
            floor.Add(Measure.Seconds(() => raw.WalkTree("/machine", values: true, listGet: listGet)));
            using var m = BenchMount.Start(qomfs, domain.Address, "cache_ttl=60");
            cold.Add(Measure.Sh(string.Format(CultureInfo.InvariantCulture, dumpCommand, m.Path)));
        }
        var floorMedian = Measure.Median(floor);
        table.Add(new Row("libvirt: floor, raw QMP dump of /machine on QEMU's own socket", "plain", Unit.Seconds, floor)
            { Qemu = version, FloorSeconds = floorMedian });
        table.Add(new Row("libvirt: cold dump through a libvirt mount", "plain", Unit.Seconds, cold)
            { Qemu = version, FloorSeconds = floorMedian });
    }
}
