namespace QomFs.Testing;

/// <summary>
/// Guards for tests that need a real peer. Outside CI a missing dependency skips the test with a reason;
/// under CI=true it fails, because CI must never report green for a test that did not run.
/// </summary>
public static class Require
{
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Requires an executable on PATH (or at an absolute path) and returns its full path.</summary>
    public static string Tool(string name, string why)
    {
        var found = Which(name);
        if (found is null) Missing($"{name} is not installed ({why}); run scripts/install-deps.sh");
        return found!;
    }

    public static void File(string path, string why)
    {
        if (!System.IO.File.Exists(path)) Missing($"{path} does not exist ({why}); run scripts/install-deps.sh");
    }

    public static void Root(string why)
    {
        if (Environment.UserName != "root" && geteuid() != 0) Missing($"this test must run as root ({why})");
    }

    static void Missing(string message)
    {
        if (InCi) Assert.Fail(message);
        Assert.Ignore(message);
    }

    public static string? Which(string name)
    {
        if (name.Contains('/')) return System.IO.File.Exists(name) ? name : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':'))
        {
            if (dir.Length == 0) continue;
            var candidate = Path.Combine(dir, name);
            if (System.IO.File.Exists(candidate)) return candidate;
        }
        foreach (var dir in new[] { "/usr/sbin", "/sbin" })
        {
            var candidate = Path.Combine(dir, name);
            if (System.IO.File.Exists(candidate)) return candidate;
        }
        return null;
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern uint geteuid();
}
