namespace QomFs.Testing;

/// <summary>
/// The published NativeAOT binary under test, run by one of its names (the symlinks next to it), the way a user
/// runs it. `make test` builds it first; QOMFS_BIN points elsewhere.
/// </summary>
public static class Qomfs
{
    public static string Binary
    {
        get
        {
            Needs.Check(Needs.Binary);
            var path = Environment.GetEnvironmentVariable("QOMFS_BIN") ?? Path.Combine(RepoRoot, "bin", "qomfs");
            if (!File.Exists(path)) Assert.Fail($"{path} does not exist: run 'make build' first");
            return path;
        }
    }

    /// <summary>The path of a drop-in name (bin/qom-get, …), a symlink to the binary.</summary>
    public static string Named(string name) => Path.Combine(Path.GetDirectoryName(Binary)!, name);

    public static ProcessResult Run(string name, IEnumerable<string> args, TimeSpan? deadline = null,
        byte[]? stdin = null, IDictionary<string, string?>? env = null) =>
        ProcessRunner.Run(Named(name), args, deadline, stdin, env);

    /// <summary>A copy of the binary elsewhere (an installed tree), by its path.</summary>
    public static ProcessResult RunPath(string path, params string[] args)
    {
        Needs.Check(Needs.Binary);
        return ProcessRunner.Run(path, args);
    }

    public static string RepoRoot
    {
        get
        {
            var dir = AppContext.BaseDirectory;
            while (dir is not null && !File.Exists(Path.Combine(dir, "QomFs.sln"))) dir = Path.GetDirectoryName(dir);
            return dir ?? throw new InvalidOperationException("cannot find the repository root (QomFs.sln)");
        }
    }
}
