using System.Diagnostics;

namespace QomFs.Cli.Mount;

/// <summary>
/// Backgrounding without fork(): the .NET runtime cannot survive a fork, so the command starts itself again as a
/// child in a session of its own, and waits until the child says the mount is live (or fails, with its message
/// relayed to the terminal). Only then does it return.
/// </summary>
static class Daemon
{
    const string ChildVariable = "QOMFS_DAEMON_CHILD";
    const string ReadyLine = "ready";

    public static bool IsChild => Environment.GetEnvironmentVariable(ChildVariable) == "1";

    public static int StartInBackground(string prog, string[] argv)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        // The child runs the same command under the same name, so it parses the same arguments.
        psi.ArgumentList.Add("--qomfs-as");
        psi.ArgumentList.Add(prog);
        foreach (var a in argv) psi.ArgumentList.Add(a);
        psi.Environment[ChildVariable] = "1";

        using var child = Process.Start(psi)!;
        child.StandardInput.Close();
        var errors = child.StandardError.ReadToEndAsync();
        var line = child.StandardOutput.ReadLine();
        if (line == ReadyLine) return ExitCodes.Ok;

        child.WaitForExit();
        Console.Error.Write(errors.GetAwaiter().GetResult());
        return child.ExitCode == 0 ? ExitCodes.Refused : child.ExitCode;
    }

    public static int ServeAsChild(QomFsMountOptions options, string? logFile)
    {
        LibC.SetSid(); // out of the terminal's session: its Ctrl-C and hang-up are not ours
        using var log = logFile is null ? DaemonLog.Null : OpenLog(logFile);
        return QomFsDaemon.RunAsync(options, log, ready: () =>
        {
            Console.Out.WriteLine(ReadyLine);
            Console.Out.Flush();
            DetachStandardStreams();
        }).GetAwaiter().GetResult();
    }

    public static DaemonLog OpenLog(string path)
    {
        try { return new DaemonLog(new StreamWriter(LocalFile.Append(path, "log file"))); }
        catch (LocalFileException e) { throw new UsageException(e.Message); }
    }

    // The parent is gone once the mount is live: nothing may write to its pipes any more.
    static void DetachStandardStreams()
    {
        var devNull = LibC.Open("/dev/null", LibC.O_RDWR, 0);
        if (devNull < 0) return;
        LibC.Dup2(devNull, 0);
        LibC.Dup2(devNull, 1);
        LibC.Dup2(devNull, 2);
        if (devNull > 2) LibC.Close(devNull);
    }
}
