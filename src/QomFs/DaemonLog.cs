namespace QomFs;

/// <summary>The daemon's log: one timestamped line per event, safe from any thread.</summary>
public sealed class DaemonLog(TextWriter output) : IDisposable
{
    readonly Lock _gate = new();

    public static DaemonLog Null { get; } = new(TextWriter.Null);

    public void Write(string message)
    {
        lock (_gate)
        {
            output.WriteLine($"{DateTimeOffset.Now:yyyy-MM-dd HH:mm:ss.fff} {message}");
            output.Flush();
        }
    }

    public void Dispose() => output.Dispose();
}
