namespace QomFs.Testing;

/// <summary>Unique paths per test, short enough for a unix socket address (108 bytes).</summary>
public static class TempPaths
{
    static readonly string Root = Path.Combine("/tmp", $"qomfs-test-{Environment.ProcessId}");

    public static string NewDirectory(string prefix)
    {
        var path = Path.Combine(Root, $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)]);
        Directory.CreateDirectory(path);
        return path;
    }

    public static string NewSocket(string prefix)
    {
        Directory.CreateDirectory(Root);
        return Path.Combine(Root, $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)] + ".sock");
    }
}
