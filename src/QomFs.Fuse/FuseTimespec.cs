namespace QomFs.Fuse;

/// <summary><c>struct timespec</c> on x86_64: seconds and nanoseconds since the epoch, two 64-bit fields.</summary>
public struct FuseTimespec
{
    /// <summary>utimensat(2): set this time to "now".</summary>
    public const long UTIME_NOW = (1L << 30) - 1;
    /// <summary>utimensat(2): leave this time unchanged.</summary>
    public const long UTIME_OMIT = (1L << 30) - 2;

    public long Seconds;
    public long Nanoseconds;

    public static FuseTimespec FromDateTimeOffset(DateTimeOffset time)
    {
        var ticks = time.UtcTicks - DateTime.UnixEpoch.Ticks;
        return new FuseTimespec
        {
            Seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var rest) - (rest < 0 ? 1 : 0),
            Nanoseconds = (rest < 0 ? rest + TimeSpan.TicksPerSecond : rest) * 100,
        };
    }

    public readonly DateTimeOffset ToDateTimeOffset() =>
        DateTimeOffset.UnixEpoch.AddTicks(Seconds * TimeSpan.TicksPerSecond + Nanoseconds / 100);
}
