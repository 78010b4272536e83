using System.Runtime.InteropServices;

namespace QomFs.Cli.Ga;

/// <summary>
/// SIGINT and SIGTERM, for a copy that must clean up before it goes: each cancels <see cref="Token"/> rather than
/// ending the process. Disposed, the signals end the process again as before.
/// </summary>
sealed class Interruption : IDisposable
{
    readonly CancellationTokenSource _cancel = new();
    readonly PosixSignalRegistration[] _signals;
    int _signal;

    public Interruption() => _signals = [Register(PosixSignal.SIGINT, 2), Register(PosixSignal.SIGTERM, 15)];

    public CancellationToken Token => _cancel.Token;

    /// <summary>The shell's status for the signal that came (128 + its number).</summary>
    public int ExitCode => 128 + Volatile.Read(ref _signal);

    PosixSignalRegistration Register(PosixSignal signal, int number) => PosixSignalRegistration.Create(signal, c =>
    {
        c.Cancel = true;
        Volatile.Write(ref _signal, number);
        _cancel.Cancel();
    });

    public void Dispose()
    {
        foreach (var s in _signals) s.Dispose();
        _cancel.Dispose();
    }
}
