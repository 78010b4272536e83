namespace QomFs.Qmp;

public sealed record QmpClientOptions
{
    /// <summary>The default deadline of every command; 3 s, as in QEMU's own tools.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The deadline for connecting, the greeting and the negotiation together.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The longest message accepted from the server before it counts as a protocol violation.</summary>
    public int MaxMessageBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// Whether to wait for the greeting and send <c>qmp_capabilities</c>. A guest agent sends no greeting, so a QMP
    /// shell talking to one turns this off.
    /// </summary>
    public bool Negotiate { get; init; } = true;

    /// <summary>
    /// Whether a thread of the client's own reads replies and events (the default). Without it, each command's
    /// caller reads until its own reply came, so that a one-shot tool starts no thread at all; commands then run one
    /// after the other rather than pipelined, and events arrive only while a command waits for its reply.
    /// </summary>
    public bool ReaderThread { get; init; } = true;

    /// <summary>
    /// For a connection whose commands mostly come one at a time, each after the last reply (a file system reading
    /// files): the start of the name of the argument those commands begin with, such as <c>path</c>; null (the
    /// default) for none. The socket transport then writes <c>arguments</c> before <c>execute</c> and sends the
    /// opening of the next command, <c>{"arguments":{"</c> and this name, right behind each one. QEMU 7.2 reads
    /// requests one byte per main-loop iteration; bytes sent ahead are read while the caller is still working out
    /// its next command, rather than after it was sent. A command that does not begin so still runs: the opening is first
    /// closed into a request the server refuses (no <c>execute</c>), whose reply is dropped. A caller that can guess
    /// its next command (a walk of a tree) can have all of it but its closing brace sent ahead
    /// (<see cref="QmpClient.Anticipate"/>).
    /// </summary>
    public string? SendAheadArgument { get; init; }

    public static QmpClientOptions Default { get; } = new();
}
