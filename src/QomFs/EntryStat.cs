using QomFs.Fuse;
using QomFs.Qom;
using QomFs.Threading;

namespace QomFs;

/// <summary>
/// An entry's attributes (stat), from what is cached: never a qom-get. A file's size is its last value's length,
/// and its modification time says which fetch that was, so that the kernel drops its pages when a value is
/// refetched (see <see cref="QomFileSystem"/>'s remarks).
/// </summary>
sealed class EntryStat(QomCache cache, FetchRecord fetches, QomFsOptions options)
{
    readonly bool _pageCache = cache.Ttl > TimeSpan.Zero;
    long _expiredReports;

    public void Fill(QomEntry entry, ref FuseStat stat)
    {
        stat.Uid = options.Uid;
        stat.Gid = options.Gid;
        var time = options.MountTime;
        switch (entry.Kind)
        {
            case QomEntryKind.Directory:
                time = time.AddTicks(fetches.ListingGeneration(entry.Path));
                stat.Mode = FuseStat.S_IFDIR | 0b111_101_101;
                stat.LinkCount = 2;
                stat.BlockSize = 4096;
                break;
            case QomEntryKind.Link:
                stat.Mode = FuseStat.S_IFLNK | 0b111_111_111;
                stat.LinkCount = 1;
                stat.BlockSize = 4096;
                break;
            default:
                stat.Mode = FuseStat.S_IFREG | (options.ReadOnly ? 0b100_100_100u : 0b110_100_100u);
                stat.LinkCount = 1;
                stat.BlockSize = QomFileSystem.WriteBlockSize;
                // A read in flight: wait for its value rather than show the size before it. The kernel does not
                // trim a file to the end of a read if attributes came meanwhile, so an unread file's page, shown
                // while its first read was in flight, would read on past the value as zeros.
                // (Run only waits: the read that started the fetch reports how it ended.)
                if (cache.TryGetFetchInFlight(entry.Owner, entry.Name, out var fetch)) ThreadPump.Run(() => fetch);
                if (fetches.TryLastFetch(entry.Owner, entry.Name, out var last, out var cached))
                {
                    // Once read, a file never shows one page again: a page the kernel could not drop would then
                    // read on past the value, as zeros.
                    stat.Size = last.Length;
                    time = time.AddTicks(cached ? CachedTicks(last) : 2 * Interlocked.Increment(ref _expiredReports));
                }
                else stat.Size = _pageCache ? QomFileSystem.UnreadSize : 0;
                stat.Blocks = (stat.Size + 511) / 512;
                break;
        }
        stat.SetAllTimes(time);
    }

    /// <summary>
    /// How far past the mount time a cached value's modification time is. The kernel drops a file's pages when a
    /// refresh of its attributes shows another size or time, so every fetch must look different (odd ticks, one
    /// per generation), and so must every report of a value no longer cached (even ticks, one per report, see
    /// Fill: if the kernel could not drop a page it was using, the next refresh tries again). The first fetch
    /// keeps the time an unread file shows: the kernel trimmed the size to the value's length when it read it, so
    /// nothing changed and its pages stay; a first value exactly one page long would look unread, hence 1 then.
    /// </summary>
    static long CachedTicks(ValueFetch f) => f.Generation == 0 && f.Length != QomFileSystem.UnreadSize ? 0 : 2L * f.Generation + 1;
}
