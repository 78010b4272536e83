namespace QomFs.Testing;

/// <summary>Which pages of a file the kernel holds, seen with fincore (mincore(2) on a mapping: it reads nothing).</summary>
public static class PageCache
{
    public static int ResidentPages(string file)
    {
        var r = ProcessRunner.Run("fincore", ["--raw", "--noheadings", "--output", "PAGES", file], TimeSpan.FromSeconds(10));
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        return int.Parse(r.StdOut.Trim());
    }
}
