namespace QomFs.Cli;

/// <summary>Exit codes shared by every command.</summary>
static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>QEMU (or the guest agent) refused the command.</summary>
    public const int Refused = 1;
    public const int Usage = 2;
    /// <summary>Cannot connect, the connection broke, or a timeout.</summary>
    public const int Unreachable = 3;
}
