using System.Reflection;
using QomFs.Fuse;

namespace QomFs.Cli;

/// <summary>`--version` on every name: QomFs's version, as the build stamped it, and the libfuse it loads.</summary>
static class VersionCommand
{
    public static int Print(string prog)
    {
        Console.Out.WriteLine($"{prog} (QomFs) {QomFsVersion}");
        Console.Out.WriteLine($"libfuse {FuseLibrary.Version ?? "not found (libfuse3.so.3)"}");
        return ExitCodes.Ok;
    }

    /// <summary>The VERSION file's number plus the commit it was built from (see QomFs.Cli.csproj).</summary>
    static string QomFsVersion =>
        typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
