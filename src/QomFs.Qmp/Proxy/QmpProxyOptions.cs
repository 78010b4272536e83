using System.Text.Json;

namespace QomFs.Qmp.Proxy;

public sealed record QmpProxyOptions
{
    /// <summary>Clients served at once; one more is greeted, and its first request answered with an error saying so.</summary>
    public int MaxClients { get; init; } = 16;

    /// <summary>The longest request line; a longer one is answered with QEMU's error for an oversized request.</summary>
    public int MaxRequestBytes { get; init; } = 1024 * 1024;

    /// <summary>A client's commands whose replies it has not read yet; beyond that the proxy stops reading its requests.</summary>
    public int MaxPendingReplies { get; init; } = 64;

    /// <summary>Events queued for a client that does not read them; beyond that it loses its oldest, counted.</summary>
    public int EventQueue { get; init; } = 256;

    /// <summary>
    /// Called after a client's command succeeded on QEMU, with its name and arguments (undefined when it had
    /// none), on the thread that completed it: so that whoever caches what QEMU says can drop what the command
    /// changed (a <c>qom-set</c>). Must not block.
    /// </summary>
    public Action<string, JsonElement>? CommandCompleted { get; init; }
}
