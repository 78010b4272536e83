using System.Diagnostics;
using System.Globalization;
using QomFs.Testing;

namespace QomFs.Bench;

/// <summary>Timing helpers. Shell commands are timed inside bash ($EPOCHREALTIME), so bash's own start is not counted.</summary>
static class Measure
{
    /// <summary>Seconds that <paramref name="command"/> took, output discarded.</summary>
    public static double Sh(string command)
    {
        var r = ProcessRunner.Sh($"s=$EPOCHREALTIME; {{ {command} ; }} >/dev/null 2>&1; e=$EPOCHREALTIME; echo \"$s $e\"",
            TimeSpan.FromMinutes(3));
        return Pairs(r.StdOut).Single();
    }

    /// <summary>The seconds of each run of <paramref name="command"/> (with "$f" bound to each line of <paramref name="lines"/>).</summary>
    public static List<double> EachLine(IEnumerable<string> lines, string command)
    {
        var list = Path.Combine(TempPaths.NewDirectory("list"), "lines");
        File.WriteAllLines(list, lines);
        var r = ProcessRunner.Sh($"while IFS= read -r f; do s=$EPOCHREALTIME; {command} >/dev/null 2>&1; e=$EPOCHREALTIME; echo \"$s $e\"; done < '{list}'",
            TimeSpan.FromMinutes(3));
        return Pairs(r.StdOut);
    }

    static List<double> Pairs(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l =>
        {
            var p = l.Split(' ');
            return (double)(decimal.Parse(p[1], CultureInfo.InvariantCulture) - decimal.Parse(p[0], CultureInfo.InvariantCulture));
        })];

    public static double Seconds(Action a)
    {
        var clock = Stopwatch.StartNew();
        a();
        return clock.Elapsed.TotalSeconds;
    }

    public static double Percentile(IReadOnlyList<double> samples, double p)
    {
        var sorted = samples.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    public static double Median(IReadOnlyList<double> samples)
    {
        var sorted = samples.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <param name="ReadsPerSecond">all readers' reads over the time from the first one's start to the last one's end.</param>
    /// <param name="MinShare">the fewest reads of one reader over the mean.</param>
    /// <param name="RanOut">the readers ended before the window did: a shared queue of files ran out.</param>
    /// <param name="Seconds">from the first reader's start to the last one's end.</param>
    /// <param name="LongestRead">the longest one read took (open to close), in seconds.</param>
    public sealed record ReadersResult(double ReadsPerSecond, int Errors, double MinShare, int Reads, bool RanOut, double Seconds, double LongestRead)
    {
        /// <summary>
        /// Whether a reader waited while the others were served. Where the readers read for the whole window, one
        /// with fewer than a quarter of the mean's reads. Where a queue ran out first (QEMU 11's cold reads, served
        /// from the page cache, take 16 readers on 2 cores a few ms), the counts say which reader had a CPU before
        /// the files were gone, not which one the file system made wait: there, one whose read took longer than a
        /// quarter of the window.
        /// </summary>
        public bool Starved(TimeSpan window) => RanOut ? LongestRead > window.TotalSeconds / 4 : MinShare < 0.25;
    }

    /// <summary>
    /// <paramref name="readers"/> threads doing what cat does (open, read to end of file, close) for at most
    /// <paramref name="window"/>. With <paramref name="shared"/> they take files from one queue, each file once (cold
    /// reads); otherwise each cycles over all files from its own starting point (warm reads).
    /// </summary>
    public static ReadersResult Readers(int readers, IReadOnlyList<string> files, TimeSpan window, bool shared)
    {
        var counts = new int[readers];
        var longest = new long[readers];
        var starts = new long[readers];
        var ends = new long[readers];
        var errors = 0;
        var next = -1;
        var stop = 0;
        using var start = new Barrier(readers + 1);
        var threads = Enumerable.Range(0, readers).Select(i => new Thread(() =>
        {
            var buffer = new byte[64 * 1024];
            var cursor = i * files.Count / readers;
            start.SignalAndWait();
            starts[i] = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref stop) == 0)
            {
                string file;
                if (shared)
                {
                    var k = Interlocked.Increment(ref next);
                    if (k >= files.Count) break;
                    file = files[k];
                }
                else file = files[cursor++ % files.Count];
                var began = Stopwatch.GetTimestamp();
                try
                {
                    using var h = File.OpenHandle(file);
                    long offset = 0;
                    int n;
                    while ((n = RandomAccess.Read(h, buffer, offset)) > 0) offset += n;
                    counts[i]++;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Interlocked.Increment(ref errors); }
                longest[i] = Math.Max(longest[i], Stopwatch.GetTimestamp() - began);
            }
            ends[i] = Stopwatch.GetTimestamp();
        }) { IsBackground = true }).ToList();
        foreach (var t in threads) t.Start();
        start.SignalAndWait();
        var started = Stopwatch.GetTimestamp();
        var ranOut = true;
        while (threads.Any(t => t.IsAlive))
        {
            if (Stopwatch.GetElapsedTime(started) >= window)
            {
                ranOut = false;
                break;
            }
            Thread.Sleep(5);
        }
        Volatile.Write(ref stop, 1);
        foreach (var t in threads) t.Join();
        var seconds = Stopwatch.GetElapsedTime(starts.Min(), ends.Max()).TotalSeconds;
        var total = counts.Sum();
        var mean = (double)total / readers;
        return new ReadersResult(total / seconds, errors, mean == 0 ? 0 : counts.Min() / mean, total, ranOut, seconds,
            longest.Max() / (double)Stopwatch.Frequency);
    }
}
