namespace QomFs.Qmp.Qga;

public sealed record QgaClientOptions
{
    /// <summary>
    /// The deadline of connecting and syncing together, and of every command (including a resync before it); 3 s, as in
    /// QEMU's original client.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The longest reply accepted from the agent. The guest controls the agent, so this bounds our memory: a larger reply
    /// is a protocol error and closes the connection. 32 MiB holds a 16 MiB guest-exec output or file chunk in base64.
    /// </summary>
    public int MaxReplyBytes { get; init; } = 32 * 1024 * 1024;

    /// <summary>Whether to check <c>guest-info</c> (once per connection) before a command, to report a disabled one clearly.</summary>
    public bool CheckEnabled { get; init; } = true;

    public static QgaClientOptions Default { get; } = new();
}
