using System.Globalization;
using System.Runtime.InteropServices;
using QomFs.Bench;
using QomFs.Testing;

// `make bench` (scripts/bench.sh): starts its own QEMUs, mounts the published bin/qomfs and prints one table.
//   --smoke      one run of each row, the plain QEMU 7.2 only, few samples, and QEMU 11's cold dump row alone
//                (what `make test` runs; no timing asserted)
//   --runs N     runs per row (default 5)
//   --qomfs PATH the binary under test (default $QOMFS_BIN or bin/qomfs)
//   --qemu N     only the rows of the QEMU whose major version is N (7 or 11)
//   --libvirt    only the libvirt rows (a qom-get against virsh, a cold dump through a libvirt mount)
//   --pin        each QEMU on CPU 0 and everything else (the mounts, the shells, the floor's client) on CPU 1: the
//                placement of a scheduler that spreads threads, where this one packs them (the wake-up row); no
//                libvirt rows (libvirtd starts its QEMUs itself)

var smoke = args.Contains("--smoke");
var runs = smoke ? 1 : 5;
var runsAt = Array.IndexOf(args, "--runs");
if (runsAt >= 0) runs = int.Parse(args[runsAt + 1], CultureInfo.InvariantCulture);
var qomfsAt = Array.IndexOf(args, "--qomfs");
var qomfs = Path.GetFullPath(qomfsAt >= 0 ? args[qomfsAt + 1] : Qomfs.Binary);
var qemuAt = Array.IndexOf(args, "--qemu");
var pin = args.Contains("--pin");
if (pin && Environment.ProcessorCount < 2)
{
    Console.Error.WriteLine("bench: --pin needs two CPUs");
    return 2;
}
// Every thread of the bench now, and what they start later, inherits it; each QEMU is moved to CPU 0 once started.
if (pin) ProcessRunner.Sh($"taskset -a -p -c 1 {Environment.ProcessId} >/dev/null");
var peers = QemuPeer.All.Where(p => qemuAt < 0 || p.Major == int.Parse(args[qemuAt + 1], CultureInfo.InvariantCulture)).ToList();

var cancelled = 0;
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; Volatile.Write(ref cancelled, 1); });
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; Volatile.Write(ref cancelled, 1); });

var bench = new Bench(qomfs, runs, smoke, pin, () => Volatile.Read(ref cancelled) == 1);
var table = new Table();
try
{
    if (args.Contains("--libvirt"))
    {
        LibvirtRows.Add(table, qomfs, runs, smoke, s => Console.Error.WriteLine($"bench: {s}"));
    }
    else if (smoke)
    {
        bench.Machine(table, QemuPeer.Qemu72, "plain", []);
        // One row of the modern QEMU, so that `make test` runs the bench's qom-list-get path too.
        if (Available(QemuPeer.Qemu11)) bench.Machine(table, QemuPeer.Qemu11, "plain", [], coldDumpOnly: true);
    }
    else
    {
        // Unpinned only: pinned, the probe's two threads share CPU 1.
        if (!pin) bench.WakeupPlacement(table);
        var dir = TempPaths.NewDirectory("disk");
        var image = Path.Combine(dir, "disk.raw");
        using (var f = File.Create(image)) f.SetLength(16 * 1024 * 1024);
        string[] rich =
        [
            "-smp", "4", "-device", "virtio-net-pci",
            "-drive", $"file={image},format=raw,if=none,id=disk0", "-device", "virtio-blk-pci,drive=disk0",
            "-object", "memory-backend-ram,id=mem0,size=64M", "-object", "memory-backend-ram,id=mem1,size=64M",
        ];
        foreach (var peer in peers.Where(Available))
        {
            bench.Machine(table, peer, "plain", []);
            bench.Machine(table, peer, "rich", rich);
        }
        // In a full bench: on both QEMUs (libvirt 9.0 runs QEMU 11 through the test bed's emulator wrapper).
        if (qemuAt < 0 && !pin)
            LibvirtRows.Add(table, qomfs, runs, smoke, s => Console.Error.WriteLine($"bench: {s}"));
        Directory.Delete(dir, recursive: true);
    }
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("bench: interrupted");
    return 130;
}
finally
{
    try { Directory.Delete(Path.Combine("/tmp", $"qomfs-test-{Environment.ProcessId}"), recursive: true); } catch (IOException) { }
    try { Directory.Delete(Bench.ShmRoot, recursive: true); } catch (IOException) { }
}

// A QEMU that is not installed is left out with a word why; under CI=true Require fails instead (AssertionException).
static bool Available(QemuPeer peer)
{
    try
    {
        peer.QemuStartInfo();
        return true;
    }
    catch (NUnit.Framework.IgnoreException e)
    {
        Console.Error.WriteLine($"bench: {peer} left out: {e.Message}");
        return false;
    }
}

Console.WriteLine();
Console.WriteLine($"qomfs bench: {(smoke ? "smoke run" : $"{runs} runs per row")}, {Environment.ProcessorCount} CPUs{(pin ? " (QEMU pinned to CPU 0, the rest to CPU 1)" : "")}, QEMU {string.Join(" and ", bench.QemuVersions)}");
Console.WriteLine();
Console.Write(table.Render());
var notes = table.Notes().ToList();
if (notes.Count > 0)
{
    Console.WriteLine();
    foreach (var n in notes) Console.WriteLine(n);
}
return 0;

namespace QomFs.Bench
{
    sealed class Bench(string qomfs, int runs, bool smoke, bool pin, Func<bool> cancelled)
    {
        const string Cpu = "/machine/unattached/device[0]";
        const string Ttl = "cache_ttl=60";  // longer than any row, so that "warm" means within the TTL
        const double MB = 1024 * 1024;

        /// <summary>The versions of the QEMUs the rows ran on, in the order they ran.</summary>
        public List<string> QemuVersions { get; } = [];

        /// <summary>Where the tmpfs copies go; removed when the bench ends.</summary>
        public static readonly string ShmRoot = Path.Combine("/dev/shm", $"qomfs-bench-{Environment.ProcessId}");

        static void Say(string s) => Console.Error.WriteLine($"bench: {s}");

        void Check()
        {
            if (cancelled()) throw new OperationCanceledException();
        }

        /// <summary>Times <paramref name="dumpCommand"/> on a tmpfs copy of the mounted tree (files, directories and links).</summary>
        static double TmpfsDump(string mount, string dumpCommand)
        {
            var root = Path.Combine(ShmRoot, "tree");
            try
            {
                Directory.CreateDirectory(root);
                // cp reports the few properties QEMU refuses to read and copies everything else.
                ProcessRunner.Sh($"cp -a '{mount}/machine' '{root}/' 2>/dev/null; true");
                var command = string.Format(CultureInfo.InvariantCulture, dumpCommand, root);
                Measure.Sh(command); // tmpfs' pages warm, as the mount's are
                return Measure.Sh(command);
            }
            finally
            {
                Directory.Delete(root, recursive: true);
            }
        }

        /// <summary>The context row of the cold dumps: where a wake-up from a busy thread runs (see <see cref="QomFs.Bench.WakeupPlacement"/>).</summary>
        public void WakeupPlacement(Table table)
        {
            Say("wake-up placement");
            var shares = new List<double>();
            for (var i = 0; i < runs; i++)
            {
                Check();
                shares.Add(QomFs.Bench.WakeupPlacement.OnWakersCpu(200, TimeSpan.FromMicroseconds(300)));
            }
            table.Add(new Row("context: a thread woken over a unix socket by a busy thread runs on the waker's CPU", "-", Unit.Share, shares)
            {
                Note = "200 wake-ups per run, the waker busy 300 µs after each write (as QEMU reading the next request); "
                    + "a scheduler that spreads runs the woken thread on an idle CPU (near 0%); near 100% means each QMP reply's "
                    + "work in the daemon runs on QEMU's CPU",
            });
        }

        BenchMount Mount(QemuProcess qemu, string options = Ttl) => BenchMount.Start(qomfs, qemu.QmpSocket, options);

        /// <summary>
        /// Every row on one QEMU. The rows are the same on each peer; what differs is the floor's command (one
        /// qom-list-get per object where QEMU has it, otherwise qom-list and a qom-get per property), and with it the
        /// commands each row is expected to send and the targets.
        /// </summary>
        /// <param name="coldDumpOnly">measure and print only what the cold dump row needs (a smoke run's second QEMU).</param>
        public void Machine(Table table, QemuPeer peer, string label, string[] qemuArgs, bool coldDumpOnly = false)
        {
            Say($"{peer} {label}: starting QEMU");
            using var qemu = QemuProcess.Start(peer, qemuArgs);
            if (pin) ProcessRunner.Sh($"taskset -a -p -c 0 {qemu.Pid} >/dev/null");
            var listGet = peer.HasQomListGet;
            var listCommand = listGet ? "qom-list-get" : "qom-list";

            // Discovery, with the floor's raw client on the second socket. The floor itself is measured in each run,
            // right before that run's cold dump, so that the ratio compares minutes of the same load on this machine.
            using var raw = new RawQmp(qemu.SecondSocket);
            var version = raw.Version;
            if (!QemuVersions.Contains(version)) QemuVersions.Add(version);
            void Add(Row row) => table.Add(row with { Qemu = version });
            var whole = raw.WalkTree("/", values: false, listGet: listGet);
            var dump = raw.WalkTree("/machine", values: true, listGet: listGet); // also warms up QEMU and the client
            List<double> floor = [], floorAhead = [];
            var objects = whole.Objects.Count;
            Say($"{peer} {label}: {objects} objects, {dump.Objects.Count} under /machine with {dump.Files.Count} files ({dump.Readable.Count} readable)");
            if (!dump.Objects.Contains(Cpu)) throw new InvalidOperationException($"no CPU object at {Cpu}");

            var machineFiles = dump.Readable.Select(f => $"{f.Path}/{f.Name}").ToList();
            var cpuFiles = dump.Readable.Where(f => f.Path == Cpu).Select(f => $"{f.Path}/{f.Name}").Take(smoke ? 10 : 100).ToList();
            var window = TimeSpan.FromSeconds(smoke ? 0.1 : 0.5);
            int[] readerCounts = [1, 4, 16];

            List<double> cold = [], warm = [], warmAgain = [], warmReadOnly = [], tmpfsDump = [], rss = [], findCold = [], findWarm = [];
            List<double> lsMachineCold = [], lsMachineWarm = [], lsCpuCold = [], lsCpuWarm = [];
            List<double> coldP50 = [], coldP99 = [], warmP50 = [], warmP99 = [], tmpP50 = [], tmpP99 = [];
            var warmReaders = readerCounts.ToDictionary(n => n, _ => new List<Measure.ReadersResult>());
            var coldReaders = readerCounts.ToDictionary(n => n, _ => new List<Measure.ReadersResult>());
            var dumpCommand = "find '{0}/machine' -type f -print0 | xargs -0 cat";

            for (var run = 1; run <= runs; run++)
            {
                Say($"{peer} {label}: run {run}/{runs}");
                Check();
                // Nothing else talks to QEMU meanwhile: the mount of this run is made after it.
                floor.Add(Measure.Seconds(() => raw.WalkTree("/machine", values: true, listGet: listGet)));
                floorAhead.Add(Measure.Seconds(() => raw.WalkTree("/machine", values: true, sendAhead: true, listGet: listGet)));
                raw.CloseOpening();
                Check();
                // Copies of the single-read files on tmpfs, made through this mount so that a later mount's files
                // are not touched before they are timed.
                var shm = Directory.CreateDirectory(Path.Combine(ShmRoot, $"copies-{run}")).FullName;
                List<string> copies;
                using (var m = Mount(qemu))
                {
                    cold.Add(Measure.Sh(string.Format(CultureInfo.InvariantCulture, dumpCommand, m.Path)));
                    warm.Add(Measure.Sh(string.Format(CultureInfo.InvariantCulture, dumpCommand, m.Path)));
                    warmAgain.Add(Measure.Sh(string.Format(CultureInfo.InvariantCulture, dumpCommand, m.Path)));
                    tmpfsDump.Add(TmpfsDump(m.Path, dumpCommand));
                    if (coldDumpOnly) continue;
                    var files = machineFiles.Select(m.P).ToList();
                    foreach (var n in readerCounts) warmReaders[n].Add(Measure.Readers(n, files, window, shared: false));
                    rss.Add(m.PeakRss());
                    copies = cpuFiles.Select((f, i) =>
                    {
                        var copy = Path.Combine(shm, $"f{i}");
                        File.WriteAllBytes(copy, File.ReadAllBytes(m.P(f)));
                        return copy;
                    }).ToList();
                }
                Check();
                using (var m = Mount(qemu, "ro," + Ttl))
                {
                    Measure.Sh(string.Format(CultureInfo.InvariantCulture, dumpCommand, m.Path)); // cold: timed above
                    warmReadOnly.Add(Measure.Sh(string.Format(CultureInfo.InvariantCulture, dumpCommand, m.Path)));
                }
                Check();
                using (var m = Mount(qemu))
                {
                    findCold.Add(Measure.Sh($"find '{m.Path}'"));
                    findWarm.Add(Measure.Sh($"find '{m.Path}'"));
                }
                Check();
                using (var m = Mount(qemu))
                {
                    lsMachineCold.Add(Measure.Sh($"ls -l '{m.P("/machine")}'"));
                    lsMachineWarm.Add(Measure.Sh($"ls -l '{m.P("/machine")}'"));
                    lsCpuCold.Add(Measure.Sh($"ls -l '{m.P(Cpu)}'"));
                    lsCpuWarm.Add(Measure.Sh($"ls -l '{m.P(Cpu)}'"));
                    // The listing is warm now, the values are not: each first cat costs one qom-get.
                    var paths = cpuFiles.Select(m.P).ToList();
                    var c = Measure.EachLine(paths, "cat -- \"$f\"");
                    // Each first warm read right beside its tmpfs copy, so that both see the same minutes.
                    var alternated = Measure.EachLine(paths.Zip(copies).SelectMany(p => new[] { p.First, p.Second }), "cat -- \"$f\"");
                    var w = alternated.Where((_, i) => i % 2 == 0).ToList();
                    var t = alternated.Where((_, i) => i % 2 == 1).ToList();
                    Directory.Delete(shm, recursive: true);
                    tmpP50.Add(Measure.Percentile(t, 50));
                    tmpP99.Add(Measure.Percentile(t, 99));
                    coldP50.Add(Measure.Percentile(c, 50));
                    coldP99.Add(Measure.Percentile(c, 99));
                    warmP50.Add(Measure.Percentile(w, 50));
                    warmP99.Add(Measure.Percentile(w, 99));
                }
                foreach (var n in readerCounts)
                {
                    Check();
                    using var m = Mount(qemu);
                    Measure.Sh($"find '{m.P("/machine")}'"); // listings and names warm; values cold
                    var files = machineFiles.Select(m.P).ToList();
                    coldReaders[n].Add(Measure.Readers(n, files, window, shared: true));
                }
            }

            // A QMP socket serves one client at a time: the floor's gives way to the CLI's.
            raw.Dispose();
            var floorMedian = Measure.Median(floor);
            var tmpfsMedian = Measure.Median(tmpfsDump);

            // The CLI, end to end as a process, on the second socket.
            Check();
            string Cli(string name, string socket) => $"'{Path.Combine(Path.GetDirectoryName(qomfs)!, name)}' -s '{socket}' \"$f\"";
            List<double> cli = [], tree = [];
            if (!coldDumpOnly)
            {
                cli = Measure.EachLine(Enumerable.Repeat("/machine.hpet", smoke ? 3 : 20), Cli("qom-get", qemu.SecondSocket));
                tree = Measure.EachLine(Enumerable.Repeat("/", runs), Cli("qom-tree", qemu.SecondSocket));
            }

            // The counting runs, through a relay that counts what the daemon sends to QEMU.
            Check();
            Say($"{peer} {label}: counting QMP commands");
            var counts = Count(qemu, cpuFiles[0], Cli, coldDumpOnly);

            string Cmds(Dictionary<string, int> c) => c.Count == 0 ? "0"
                : string.Join(" + ", c.OrderBy(kv => kv.Key).Select(kv => $"{kv.Value} {kv.Key}"));
            int Total(Dictionary<string, int> c) => c.Values.Sum();
            static string YesNo(bool b) => b ? "yes" : "NO";
            static string Times(double x) => x.ToString("0.00", CultureInfo.InvariantCulture) + "×";
            string OfTmpfs(IReadOnlyList<double> s) => $"{Times(Measure.Median(s) / tmpfsMedian)} the tmpfs copy's dump";

            var floorRow = new Row("floor: raw QMP dump of /machine", label, Unit.Seconds, floor)
            {
                FloorSeconds = floorMedian,
                Commands = Cmds(dump.Commands),
                Note = $"{dump.Objects.Count} objects, {dump.Files.Count} files ({dump.Readable.Count} readable), {dump.RequestBytes} request bytes per dump (no ids)"
                    + (listGet ? "; one qom-list-get per object, which brings every value QEMU can read" : ""),
            };
            var floorAheadRow = new Row("floor, each request's opening sent ahead", label, Unit.Seconds, floorAhead)
            {
                FloorSeconds = floorMedian,
                Note = "the same client and commands, sending {\"arguments\":{\"path of the next request behind each one, "
                    + "as the daemon does: what that alone gains where nothing waits between a reply and the next request",
            };
            var coldCounts = counts["cold dump"];
            // What the reads need: the floor's commands, and on QEMU 11 a qom-get for each file listed without a value
            // (reading it must give QEMU's own error). The root's listing, which a mount makes first, is one more.
            var coldNeeds = listGet
                ? new Dictionary<string, int> { ["qom-list-get"] = dump.Objects.Count + 1, ["qom-get"] = dump.Files.Count - dump.Readable.Count }
                : new Dictionary<string, int> { ["qom-list"] = dump.Objects.Count + 1, ["qom-get"] = dump.Files.Count };
            var coldAsNeeded = coldNeeds.Where(kv => kv.Value > 0).All(kv => coldCounts.Commands.GetValueOrDefault(kv.Key) == kv.Value)
                && Total(coldCounts.Commands) == coldNeeds.Values.Sum();
            // On QEMU 7.2 a cold dump is the floor's commands, so its bound is the floor. Where one command lists an
            // object's values, QEMU's part is small beside what the processes cost, so the bound is both added up.
            var coldBound = listGet ? floorMedian + tmpfsMedian : floorMedian;
            var coldRow = new Row("cold dump: find /machine -type f | xargs cat", label, Unit.Seconds, cold)
            {
                FloorSeconds = floorMedian, Commands = Cmds(coldCounts.Commands),
                Target = listGet ? "≤ 1.1× (floor + tmpfs dump)" : "≤ 1.0× floor",
                Met = YesNo(Measure.Median(cold) <= (listGet ? 1.1 : 1.0) * coldBound),
                Note = $"commands {(coldAsNeeded ? "as" : "NOT as")} the reads need ({Cmds(coldNeeds.Where(kv => kv.Value > 0).ToDictionary())}); "
                    + $"{coldCounts.Bytes} request bytes sent by the daemon; each run against "
                    + (listGet ? "the floor timed right before it plus that run's tmpfs dump: " : "the floor timed right before it: ")
                    + string.Join(", ", cold.Select((c, i) => Times(c / (floor[i] + (listGet ? tmpfsDump[i] : 0)))))
                    + (listGet ? $"; median {Times(Measure.Median(cold) / coldBound)} (floor + tmpfs dump)" : ""),
            };
            if (coldDumpOnly)
            {
                Add(coldRow);
                return;
            }
            Add(floorRow);
            Add(floorAheadRow);
            Add(coldRow);
            Add(new Row("warm dump (within TTL)", label, Unit.Seconds, warm)
            {
                FloorSeconds = floorMedian, Commands = Cmds(counts["warm dump"].Commands),
                // Against the floor only where the floor is QEMU's many commands; on QEMU 11 it is smaller than the tmpfs dump.
                Target = listGet ? "" : "≤ 0.05× floor",
                Met = listGet ? "" : YesNo(Measure.Median(warm) <= 0.05 * floorMedian && Total(counts["warm dump"].Commands) == 0),
                Note = OfTmpfs(warm),
            });
            Add(new Row("warm dump once more", label, Unit.Seconds, warmAgain)
            {
                FloorSeconds = floorMedian, Target = "≤ 1.1× tmpfs dump", Met = YesNo(Measure.Median(warmAgain) <= 1.1 * tmpfsMedian),
                Note = $"{OfTmpfs(warmAgain)}; the first warm pass costs one GETATTR per file: after a READ the kernel holds a file's access "
                    + "time stale (unless the mount is read-only), and cat's fstat asks for it; this pass asks nothing",
            });
            Add(new Row("warm dump on a read-only mount (-o ro)", label, Unit.Seconds, warmReadOnly)
            {
                FloorSeconds = floorMedian, Target = listGet ? "" : "≤ 0.05× floor",
                Met = listGet ? "" : YesNo(Measure.Median(warmReadOnly) <= 0.05 * floorMedian),
                Note = $"{OfTmpfs(warmReadOnly)}; the first warm pass after a cold one, on a mount of its own: read-only, the kernel keeps access "
                    + "times, so no GETATTR either",
            });
            Add(new Row("warm dump of a tmpfs copy of the tree", label, Unit.Seconds, tmpfsDump)
            {
                FloorSeconds = floorMedian,
                Note = "the same command on a copy in /dev/shm: what the kernel alone costs, the bound for any warm dump",
            });
            var findCounts = counts["find cold"].Commands;
            Add(new Row("find over the whole mount, cold", label, Unit.Seconds, findCold)
            {
                FloorSeconds = floorMedian, Commands = Cmds(findCounts), Target = $"{objects} {listCommand}, nothing else",
                Met = YesNo(findCounts.GetValueOrDefault(listCommand) == objects && Total(findCounts) == objects),
            });
            Add(new Row("find over the whole mount, warm", label, Unit.Seconds, findWarm)
            {
                Commands = Cmds(counts["find warm"].Commands), Target = "0", Met = YesNo(Total(counts["find warm"].Commands) == 0),
            });
            foreach (var (name, dir, c, w) in new[] { ("ls -l /machine", "/machine", lsMachineCold, lsMachineWarm), ("ls -l CPU object", Cpu, lsCpuCold, lsCpuWarm) })
            {
                var own = counts[$"{name} cold"].Commands;
                var resolve = counts[$"{name} resolve"].Commands;
                var links = counts[$"{name} links"].Bytes;
                // qom-list-get brings the links' targets with the listing.
                var linkGets = listGet ? 0 : links;
                Add(new Row($"{name}, cold", label, Unit.Millis, c)
                {
                    Commands = $"{Cmds(own)} (+ to resolve the path: {Cmds(resolve)})",
                    Target = listGet ? "1 qom-list-get" : "1 qom-list (+ 1 qom-get per link, for its target)",
                    Met = YesNo(own.GetValueOrDefault(listCommand) == 1 && own.GetValueOrDefault("qom-get") == linkGets && Total(own) == 1 + linkGets),
                    Note = $"{counts[$"{name} entries"].Bytes} entries of which {links} links; timed on a fresh mount, path resolution included",
                });
                var warmCounts = counts[$"{name} warm"].Commands;
                Add(new Row($"{name}, warm", label, Unit.Millis, w)
                {
                    Commands = Cmds(warmCounts), Target = "0", Met = YesNo(Total(warmCounts) == 0),
                });
            }
            var readCold = counts["read cold"].Commands;
            Add(new Row("single read cold, p50", label, Unit.Millis, coldP50)
            {
                Commands = Cmds(readCold) + " per cat",
                // Where the listing brought the value, reading it must not ask QEMU again.
                Target = listGet ? "0 (the listing brought the value)" : "",
                Met = listGet ? YesNo(Total(readCold) == 0) : "",
            });
            Add(new Row("single read cold, p99", label, Unit.Millis, coldP99));
            Add(new Row("single read warm, p50", label, Unit.Millis, warmP50)
            {
                Commands = Cmds(counts["read warm"].Commands), Target = "≤ tmpfs p50 + 0.3 ms",
                Met = YesNo(Measure.Median(warmP50) <= Measure.Median(tmpP50) + 0.0003),
            });
            Add(new Row("single read warm, p99", label, Unit.Millis, warmP99));
            Add(new Row("tmpfs cat, p50", label, Unit.Millis, tmpP50));
            Add(new Row("tmpfs cat, p99", label, Unit.Millis, tmpP99));
            foreach (var (kind, results) in new[] { ("warm", warmReaders), ("cold", coldReaders) })
            {
                var one = Measure.Median(results[1].Select(r => r.ReadsPerSecond).ToList());
                foreach (var n in readerCounts)
                {
                    var rs = results[n];
                    var rate = rs.Select(r => r.ReadsPerSecond).ToList();
                    var errors = rs.Sum(r => r.Errors);
                    var last = n == readerCounts[^1];
                    Add(new Row($"parallel {kind}: {n} reader{(n > 1 ? "s" : "")}", label, Unit.PerSecond, rate)
                    {
                        // As the single cold read counts: after find, the listings hold the values where qom-list-get brought them.
                        Commands = kind == "warm" ? "0" : listGet ? $"{Cmds(readCold)} per read" : "1 qom-get per read",
                        Target = last ? "≥ 90% of 1 reader, no errors, none starved" : "",
                        Met = last ? YesNo(Measure.Median(rate) >= 0.9 * one && errors == 0 && !rs.Any(r => r.Starved(window))) : "",
                        Note = $"errors {errors}, {Fairness(rs)}, {rs.Sum(r => r.Reads)} reads",
                    });
                }
            }
            // How Starved judged the runs: by the readers' shares where they read for the whole window, by the longest read where the files ran out first.
            string Fairness(List<Measure.ReadersResult> rs)
            {
                var whole = rs.Where(r => !r.RanOut).ToList();
                var ranOut = rs.Where(r => r.RanOut).ToList();
                var parts = new List<string>();
                if (whole.Count > 0) parts.Add($"slowest reader {whole.Min(r => r.MinShare) * 100:0}% of the mean");
                if (ranOut.Count > 0)
                    parts.Add($"{(whole.Count > 0 ? $"in {ranOut.Count} runs " : "")}the files ran out after {Measure.Median(ranOut.Select(r => r.Seconds * 1000).ToList()):0.#} ms "
                        + $"(slowest reader {ranOut.Min(r => r.MinShare) * 100:0}% of the mean: who had a CPU first), "
                        + $"longest read {ranOut.Max(r => r.LongestRead) * 1000:0.#} ms (starved beyond {window.TotalMilliseconds / 4:0} ms)");
                return string.Join("; ", parts);
            }
            Add(new Row("CLI: qom-get /machine.hpet", label, Unit.Millis, cli)
            {
                Commands = "greeting + " + Cmds(counts["qom-get"].Commands), Target = "≤ 15 ms", Met = YesNo(Measure.Median(cli) <= 0.015),
            });
            var treeCounts = counts["qom-tree"].Commands;
            // One listing per object of the whole tree, values included; QEMU 7.2 needs a qom-get per property for them.
            var treeGets = listGet ? whole.Unvalued : whole.Files.Count + whole.Links;
            Add(new Row("CLI: qom-tree /", label, Unit.Seconds, tree)
            {
                FloorSeconds = floorMedian, Commands = "greeting + " + Cmds(treeCounts),
                Target = $"{objects} {listCommand} + {treeGets} qom-get" + (listGet ? " (for the properties it gave no value)" : ""),
                Met = YesNo(treeCounts.GetValueOrDefault(listCommand) == objects && treeCounts.GetValueOrDefault("qom-get") == treeGets
                    && Total(treeCounts) == objects + treeGets + treeCounts.GetValueOrDefault("qmp_capabilities")),
                Note = "the whole tree, every value, printed to /dev/null; × floor is against the dump of /machine alone",
            });
            Add(new Row("daemon peak RSS (VmHWM)", label, Unit.Megabytes, rss)
            {
                Target = "≤ 40 MB", Met = YesNo(Measure.Median(rss) <= 40 * MB && rss.Max() <= 40 * MB),
                Note = "after a cold and two warm dumps, the tmpfs copy (cp -a, which also reads every extended attribute) and the parallel warm readers",
            });
        }

        /// <summary>Mounts through a counting relay and counts what each step sends to QEMU.</summary>
        /// <param name="cli">the command line of a CLI command (by name) on a socket, "$f" its argument.</param>
        Dictionary<string, (Dictionary<string, int> Commands, long Bytes)> Count(QemuProcess qemu, string cpuFile, Func<string, string, string> cli,
            bool coldDumpOnly)
        {
            var result = new Dictionary<string, (Dictionary<string, int>, long)>();
            using var proxy = new QmpRelay(qemu.QmpSocket);
            BenchMount Fresh()
            {
                var m = BenchMount.Start(qomfs, proxy.SocketPath, Ttl);
                proxy.Take(); // the negotiation
                return m;
            }
            void Step(string name, string command)
            {
                Measure.Sh(command);
                Thread.Sleep(20); // let the relay see the last bytes
                result[name] = proxy.Take();
            }
            var dump = "find '{0}/machine' -type f -print0 | xargs -0 cat";
            using (var m = Fresh())
            {
                Step("cold dump", string.Format(CultureInfo.InvariantCulture, dump, m.Path));
                Step("warm dump", string.Format(CultureInfo.InvariantCulture, dump, m.Path));
            }
            if (coldDumpOnly) return result;
            using (var m = Fresh())
            {
                Step("find cold", $"find '{m.Path}'");
                Step("find warm", $"find '{m.Path}'");
            }
            foreach (var (name, dir) in new[] { ("ls -l /machine", "/machine"), ("ls -l CPU object", Cpu) })
            {
                // On a fresh mount: resolve the directory's path first (stat), so that what ls -l itself costs is apart.
                using var m = Fresh();
                Step($"{name} resolve", $"stat '{m.P(dir)}'");
                Step($"{name} cold", $"ls -l '{m.P(dir)}'");
                Step($"{name} warm", $"ls -l '{m.P(dir)}'");
                var entries = ProcessRunner.Sh($"ls -A '{m.P(dir)}' | wc -l").StdOut.Trim();
                var links = ProcessRunner.Sh($"find '{m.P(dir)}' -mindepth 1 -maxdepth 1 -type l | wc -l").StdOut.Trim();
                result[$"{name} entries"] = ([], long.Parse(entries, CultureInfo.InvariantCulture));
                result[$"{name} links"] = ([], long.Parse(links, CultureInfo.InvariantCulture));
            }
            using (var m = Fresh())
            {
                Measure.Sh($"ls '{m.P(Cpu)}'");
                proxy.Take();
                Step("read cold", $"cat '{m.P(cpuFile)}'");
                Step("read warm", $"cat '{m.P(cpuFile)}'");
            }
            // The CLI on the relay's socket, once the mounts are gone: a QMP socket serves one client at a time.
            Step("qom-get", $"f=/machine.hpet; {cli("qom-get", proxy.SocketPath)}");
            Step("qom-tree", $"f=/; {cli("qom-tree", proxy.SocketPath)}");
            return result;
        }
    }
}
