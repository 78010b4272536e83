using QomFs.Qmp;
using QomFs.Threading;

namespace QomFs.Cli;

/// <summary>
/// Runs a command body and turns every failure into one line on stderr and the documented exit code:
/// never a stack trace.
/// </summary>
static class CommandRunner
{
    public static int Run(string prog, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (ReaderGoneException) { return ExitCodes.Ok; }
        catch (Exception e)
        {
            var (code, message) = Describe(e);
            // With standard output or error closed (2>&-) the exit code is all that can still tell.
            try { Console.Out.Flush(); }
            catch (Exception e2) when (e2 is IOException or UnauthorizedAccessException) { }
            try { Console.Error.WriteLine($"{prog}: {message}"); }
            catch (Exception e2) when (e2 is IOException or UnauthorizedAccessException) { }
            return code;
        }
    }

    public static int Run(string prog, Func<Task<int>> body) => Run(prog, () => body().GetAwaiter().GetResult());

    /// <summary>
    /// Runs a short command entirely on this thread, continuations included, so that it starts no thread-pool
    /// threads. Only for bodies that never block on a task themselves (which would wait for this very thread).
    /// </summary>
    public static int RunOnThisThread(string prog, Func<Task<int>> body) =>
        Run(prog, () => ThreadPump.Run(body).GetAwaiter().GetResult());

    static (int, string) Describe(Exception e) => e switch
    {
        UsageException => (ExitCodes.Usage, e.Message),
        FormatException => (ExitCodes.Usage, e.Message),
        QmpCommandException => (ExitCodes.Refused, e.Message),
        QomFs.Qom.QomValueException => (ExitCodes.Refused, e.Message),
        QmpException => (ExitCodes.Unreachable, e.Message),
        OperationCanceledException => (ExitCodes.Unreachable, "interrupted"),
        IOException or UnauthorizedAccessException => (ExitCodes.Refused, e.Message),
        _ => (ExitCodes.Refused, $"internal error: {e.GetType().Name}: {e.Message}"),
    };
}
