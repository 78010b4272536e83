using System.Collections.Concurrent;
using QomFs.Fuse;
using QomFs.Qmp;

namespace QomFs;

/// <summary>
/// The entries a directory shows for its QEMU connection beside the QOM tree: <c>.qmp.sock</c>, a symlink to the
/// mount's QMP proxy (when there is one), and <c>.events</c>, QEMU's events as a stream (<see cref="EventStream"/>).
/// QOM cannot have a property of either name at its root: the root's properties are made by QEMU itself
/// (<c>type</c>, <c>machine</c>, <c>objects</c>, <c>chardevs</c> …), and user-chosen ids begin with a letter.
/// One of these per connection, so that a directory per VM can show its own.
/// </summary>
/// <param name="connection">the connection of the moment (it changes when QEMU comes back, with reconnect).</param>
/// <param name="proxyPath">where the proxy listens; null without one.</param>
/// <param name="events">whether to show <c>.events</c>: only when asked for (-o events), since its reads need an
/// open of their own, and a file system that opens files costs every open(2) of every file an OPEN round trip.</param>
public sealed class ConnectionEntries(Func<QmpClient> connection, string? proxyPath, bool events)
{
    public const string Events = ".events";
    public const string ProxyLink = ".qmp.sock";

    // Handles of open event streams, kept apart from a file system's own handles by the top bit.
    const ulong HandleBit = 1UL << 63;
    readonly ConcurrentDictionary<ulong, EventStream> _streams = new();
    long _nextHandle;

    public string? ProxyPath => proxyPath;

    /// <summary>Whether <c>.events</c> is shown, and so whether files must be opened.</summary>
    public bool StreamsEvents => events;

    public IEnumerable<string> Names => Has(Events) ? Has(ProxyLink) ? [Events, ProxyLink] : [Events] : Has(ProxyLink) ? [ProxyLink] : [];

    public bool Has(string name) => (name == Events && events) || (name == ProxyLink && proxyPath is not null);

    public void Stat(string name, ref FuseStat stat, uint uid, uint gid, DateTimeOffset time)
    {
        stat.Uid = uid;
        stat.Gid = gid;
        stat.LinkCount = 1;
        stat.BlockSize = 4096;
        if (name == Events) stat.Mode = FuseStat.S_IFREG | 0b100_100_100; // read-only, like a value on a ro mount
        else
        {
            stat.Mode = FuseStat.S_IFLNK | 0b111_111_111;
            stat.Size = System.Text.Encoding.UTF8.GetByteCount(proxyPath!);
        }
        stat.SetAllTimes(time);
    }

    public string LinkTarget(string name) => name == ProxyLink ? proxyPath! : throw new FuseException(Errno.EINVAL);

    public int Open(string name, ref FuseFileInfo fi)
    {
        if (name != Events) return -Errno.EINVAL;
        if (fi.AccessMode != 0) return -Errno.EACCES;
        var handle = HandleBit | (ulong)Interlocked.Increment(ref _nextHandle);
        _streams[handle] = new EventStream(connection().SubscribeEvents(256));
        fi.FileHandle = handle;
        fi.DirectIo = true;
        fi.NonSeekable = true;
        fi.NoFlush = true;
        return 0;
    }

    public ValueTask<int> ReadAsync(ulong handle, Memory<byte> buffer) =>
        _streams.TryGetValue(handle, out var s) ? s.ReadAsync(buffer) : new(-Errno.EBADF);

    public bool Interrupt(ulong handle)
    {
        if (!_streams.TryGetValue(handle, out var s)) return false;
        s.Interrupt();
        return true;
    }

    public void Release(ulong handle)
    {
        if (_streams.TryRemove(handle, out var s)) s.Dispose();
    }
}
