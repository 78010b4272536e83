using System.Text.RegularExpressions;
using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>
/// `make bench` must not rot: a smoke run of the bench (one run of each row, the plain QEMU only) completes and prints
/// a well-formed table with every row. No timing is asserted here; the targets are checked by `make bench` alone.
/// </summary>
[Category(Needs.Qemu), Category(Needs.Fuse), Category(Needs.Binary)]
[NonParallelizable]
public class BenchSmokeTests
{
    static readonly string[] Rows =
    [
        "floor: raw QMP dump of /machine", "floor, each request's opening sent ahead", "cold dump", "warm dump", "warm dump on a read-only mount", "find over the whole mount, cold",
        "find over the whole mount, warm", "ls -l /machine, cold", "ls -l /machine, warm", "ls -l CPU object, cold",
        "ls -l CPU object, warm", "single read cold, p50", "single read cold, p99", "single read warm, p50",
        "single read warm, p99", "tmpfs cat, p50", "tmpfs cat, p99", "parallel warm: 1 reader", "parallel warm: 16 readers",
        "parallel cold: 1 reader", "parallel cold: 16 readers", "CLI: qom-get", "daemon peak RSS",
    ];

    [Test]
    public void ASmokeRunOfTheBenchPrintsTheWholeTable()
    {
        Require.Tool("qemu-system-x86_64", "the bench starts its own QEMU");
        Require.Tool("fusermount3", "the bench mounts for real");
        var before = File.ReadAllText("/proc/mounts");
        var r = ProcessRunner.Run(Path.Combine(Qomfs.RepoRoot, "scripts", "bench.sh"), ["--smoke"], TimeSpan.FromMinutes(4),
            env: new Dictionary<string, string?> { ["QOMFS_BIN"] = Qomfs.Binary });
        Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr + r.StdOut);

        var lines = r.StdOut.Split('\n').Where(l => l.StartsWith('|')).ToList();
        Assert.That(lines, Has.Count.GreaterThan(2), r.StdOut);
        Assert.That(lines[0], Does.StartWith("| row | machine | runs | median | min | max |"));
        Assert.That(lines[1], Does.Match(@"^\|(---\|)+$"));
        var columns = Cells(lines[0]).Length;
        var rows = lines.Skip(2).Select(Cells).ToList();
        foreach (var cells in rows)
        {
            Assert.That(cells, Has.Length.EqualTo(columns), string.Join(" | ", cells));
            Assert.That(cells[1], Is.EqualTo("plain"));
            foreach (var value in cells[3..6])
                Assert.That(value, Does.Match(@"^\d+(\.\d+)?( s| ms| MB|/s)$"), $"{cells[0]}: '{value}'");
            Assert.That(cells[9], Is.AnyOf("", "yes", "NO"), cells[0]);
        }
        foreach (var name in Rows)
            Assert.That(rows.Any(c => c[0].StartsWith(name, StringComparison.Ordinal)), Is.True, $"no row '{name}' in\n{r.StdOut}");

        // The bench cleans up after itself: no mount of its own is left. Its mounts live under /tmp/qomfs-test-PID, PID
        // its own and gone by now; a mount under a live PID is another test run's on this machine.
        var left = File.ReadAllLines("/proc/mounts").Select(l => l.Split(' ')[1])
            .Where(m => !before.Contains(m) && OwnerHasExited(m)).ToList();
        Assert.That(left, Is.Empty);
    }

    static bool OwnerHasExited(string mountPoint)
    {
        var owner = Regex.Match(mountPoint, @"^/tmp/qomfs-test-(\d+)/");
        return owner.Success && !Directory.Exists("/proc/" + owner.Groups[1].Value);
    }

    // "| a | b \| c |" → ["a", "b | c"]: cells are split on unescaped bars.
    static string[] Cells(string line) =>
        [.. Regex.Split(line.Trim().Trim('|'), @"(?<!\\)\|").Select(c => c.Trim().Replace("\\|", "|"))];
}
