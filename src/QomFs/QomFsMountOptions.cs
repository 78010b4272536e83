using QomFs.Qmp;

namespace QomFs;

/// <summary>Everything `qomfs mount` was asked for.</summary>
public sealed record QomFsMountOptions
{
    public required QmpAddress Address { get; init; }
    public required string MountPoint { get; init; }
    /// <summary>How long listings and values stay fresh; zero turns the cache off. The kernel's timeouts agree.</summary>
    public TimeSpan CacheTtl { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Deadline of each QMP command; an operation that hits it fails with ETIMEDOUT.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(3);
    public bool ReadOnly { get; init; }
    public bool AllowOther { get; init; }
    public string FsName { get; init; } = "qomfs";
    /// <summary>Keep the mount when QEMU goes away (operations fail with ENOTCONN) and serve again once it is back.</summary>
    public bool Reconnect { get; init; }
    /// <summary>Where the mount serves QMP to other clients (see MountProxy): null for the default place, "none" for nowhere.</summary>
    public string? QmpProxy { get; init; }
    /// <summary>Show QEMU's events as the file <c>.events</c> at the root (see ConnectionEntries for its cost).</summary>
    public bool Events { get; init; }
    /// <summary>A mount of every VM of a host (a directory each) instead of the one at <see cref="Address"/>.</summary>
    public Host.HostSource? Host { get; init; }
    /// <summary>A host mount closes a VM's connection after this long unused; its next use opens a new one.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Other -o options, handed to libfuse as they are.</summary>
    public IReadOnlyList<string> ExtraOptions { get; init; } = [];
}
