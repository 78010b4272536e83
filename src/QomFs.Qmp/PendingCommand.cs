namespace QomFs.Qmp;

/// <summary>A command sent and not yet answered: completed by its reply, its deadline, its cancellation or the end of the connection.</summary>
sealed class PendingCommand(string command) : TaskCompletionSource<QmpResult>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public string Command { get; } = command;
    // Its place in the session's order of sending, given when it is queued.
    public long Sequence { get; set; }
    // No deadline: another command's timeout does not fail it (see InFlightCommands).
    public bool WaitsForever { get; init; }
    // Under the InFlightCommands' lock: whichever of the reply and the give-up comes first completes the command.
    public bool Answered { get; set; }
    public bool Abandoned { get; set; }
    public Timer? Timer { get; set; }
    public CancellationTokenRegistration Cancellation { get; set; }
}
