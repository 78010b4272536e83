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

    /// <summary>Whether a path of the file system names <c>.events</c>, whose size grows as events come (see EventStream).</summary>
    public static bool IsEvents(ReadOnlySpan<byte> path) => path.SequenceEqual("/.events"u8);

    // Handles of open event streams, kept apart from a file system's own handles by the top bit.
    const ulong HandleBit = 1UL << 63;
    readonly ConcurrentDictionary<ulong, EventStream> _streams = new();
    long _nextHandle;

    public string? ProxyPath => proxyPath;

    /// <summary>Whether <c>.events</c> is shown, and so whether files must be opened.</summary>
    public bool StreamsEvents => events;

    /// <summary>Whether someone holds <c>.events</c> open: a use of the connection for as long as they do.</summary>
    public bool IsStreaming => !_streams.IsEmpty;

    public IEnumerable<string> Names => Has(Events) ? Has(ProxyLink) ? [Events, ProxyLink] : [Events] : Has(ProxyLink) ? [ProxyLink] : [];

    public bool Has(string name) => (name == Events && events) || (name == ProxyLink && proxyPath is not null);

    /// <summary>An entry's attributes; <c>.events</c> asked for through its open <paramref name="handle"/> (as lseek does) has its stream's size.</summary>
    public void Stat(string name, ref FuseStat stat, uint uid, uint gid, DateTimeOffset time, ulong? handle = null)
    {
        stat.Uid = uid;
        stat.Gid = gid;
        stat.LinkCount = 1;
        stat.BlockSize = 4096;
        if (name == Events)
        {
            stat.Mode = FuseStat.S_IFREG | 0b100_100_100; // read-only, like a value on a ro mount
            // Opened (lseek's SEEK_END), its own stream's size; by path (fstat), the largest of those open, which
            // grows with each: what a follower that polls the size needs to see new lines come.
            if (handle is { } h && _streams.TryGetValue(h, out var s)) stat.Size = s.Size;
            else foreach (var open in _streams.Values) stat.Size = Math.Max(stat.Size, open.Size);
        }
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
        var qmp = connection();
        _streams[handle] = new EventStream(qmp.SubscribeEvents(256), qmp.Greeting);
        fi.FileHandle = handle;
        // Direct: reads reach the stream whatever the size the kernel holds. Seekable, though offsets mean nothing:
        // a follower such as `tail -f` seeks, and reads a file it cannot seek in as a pipe, to its end first.
        fi.DirectIo = true;
        fi.NoFlush = true;
        return 0;
    }

    public ValueTask<int> ReadAsync(ulong handle, ulong offset, Memory<byte> buffer) =>
        _streams.TryGetValue(handle, out var s) ? s.ReadAsync((long)offset, buffer) : new(-Errno.EBADF);

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
