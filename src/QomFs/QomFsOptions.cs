namespace QomFs;

/// <summary>What the filesystem needs to know about its mount.</summary>
public sealed record QomFsOptions
{
    public bool ReadOnly { get; init; }
    /// <summary>Owner of every entry: the mounting user, not a fixed uid.</summary>
    public uint Uid { get; init; }
    public uint Gid { get; init; }
    /// <summary>The time every entry shows (the mount's start), so that nothing claims 1970.</summary>
    public DateTimeOffset MountTime { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>
    /// The largest value a write may set; more is EFBIG. QEMU 7.2 reads a request one byte at a time (about 11 µs
    /// each), so 64 KiB already keeps its monitor busy for most of a second.
    /// </summary>
    public int MaxWriteBytes { get; init; } = 64 * 1024;
}
