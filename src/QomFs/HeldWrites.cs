using BitFaster.Caching.Lru;
using QomFs.Fuse;

namespace QomFs;

/// <summary>
/// Writes set values, sysfs-style. A write whose length is a whole number of pages looks like a full buffer (stdio,
/// <c>dd</c>, <c>cat</c> in chunks, the kernel splitting a large write): more may follow, so it is held for
/// <see cref="HoldTime"/>. Any other write ends the value and sets it at once, so that a rejection fails that very
/// write(2). A write that continues where the previous one to the file ended extends that value (held or already set).
/// </summary>
/// <param name="set">sets a value (a QMP task); its failure becomes the write's errno via <see cref="ErrnoMapping.ForWrite"/>.</param>
/// <param name="maxBytes">the largest value a write may set; more is EFBIG.</param>
/// <param name="time">the clock of the hold timers.</param>
/// <param name="setAfterItsWrite">a held value was set once its hold ran out, after its write had returned: the
/// kernel may have cached the file's old contents meanwhile (a read during the hold), and must forget them.</param>
sealed class HeldWrites(Func<QomEntry, byte[], Task> set, FailureLog failures, int maxBytes, TimeProvider time,
    Action<string> setAfterItsWrite)
{
    /// <summary>How long a held write waits for the write that continues it.</summary>
    public static readonly TimeSpan HoldTime = TimeSpan.FromMilliseconds(100);

    const int PageSize = 4096;

    // Values held for more, and what the last writes set, so that a write continuing where it ended extends that value.
    readonly Lock _gate = new();
    readonly Dictionary<string, Held> _held = new(StringComparer.Ordinal);
    readonly ConcurrentLru<string, byte[]> _written = new(64);

    /// <summary>
    /// A write of <paramref name="data"/> at <paramref name="offset"/> to the file <paramref name="entry"/>;
    /// <paramref name="append"/> for a file opened with O_APPEND.
    /// </summary>
    /// <returns>the bytes written, or a negated errno.</returns>
    public int Write(QomEntry entry, ulong offset, ReadOnlySpan<byte> data, bool append)
    {
        var path = entry.Path;
        lock (_gate)
        {
            var held = TakeHeld(path);
            var fresh = offset == 0 || append;
            var continues = held is not null && !fresh && (ulong)held.Value.Length == offset;
            // A held value that this write does not continue was whole: set it before anything else.
            if (held is not null && !continues) Set(held.Entry, held.Value);
            byte[] value;
            if (fresh) value = data.ToArray();
            else if (continues) value = [.. held!.Value, .. data];
            else if (_written.TryGet(path, out var set) && (ulong)set.Length == offset) value = [.. set, .. data];
            else return -Errno.ESPIPE;
            _written.TryRemove(path);
            if (value.Length > maxBytes) return -Errno.EFBIG;
            if (data.Length > 0 && data.Length % PageSize == 0)
            {
                var waiting = new Held(value, entry);
                _held[path] = waiting;
                waiting.Timer = time.CreateTimer(_ =>
                {
                    // On the timer's thread, no FUSE callback: the kernel may be told about this very file.
                    if (SetHeld(path, waiting)) setAfterItsWrite(path);
                }, null, HoldTime, Timeout.InfiniteTimeSpan);
                return data.Length;
            }
            var errno = Set(entry, value);
            return errno == 0 ? data.Length : -errno;
        }
    }

    /// <summary>
    /// The file was truncated to nothing (open with O_TRUNC, before the writes of a new value): what is held is set,
    /// and the next write no longer continues the last.
    /// </summary>
    public void Truncated(string path)
    {
        SetHeld(path);
        _written.TryRemove(path);
    }

    /// <summary>Sets everything still held (at unmount).</summary>
    public void SetAll()
    {
        lock (_gate)
            foreach (var path in _held.Keys.ToArray()) SetHeld(path);
    }

    // Under _gate: the held value of a file, if any, no longer held.
    Held? TakeHeld(string path)
    {
        if (!_held.Remove(path, out var held)) return null;
        held.Timer?.Dispose();
        return held;
    }

    // A held value that nothing continued (or, if given, that very one): set it now; false if there was none. Its
    // writer may have closed the file already, so an error can only be logged.
    bool SetHeld(string path, Held? only = null)
    {
        lock (_gate)
        {
            if (!_held.TryGetValue(path, out var held) || (only is not null && held != only)) return false;
            TakeHeld(path);
            Set(held.Entry, held.Value);
            return true;
        }
    }

    // Under _gate. Returns 0 or the errno.
    int Set(QomEntry entry, byte[] value)
    {
        try
        {
            FuseWorker.Run(() => set(entry, value), ErrnoMapping.ForWrite);
            _written.AddOrUpdate(entry.Path, value);
            return 0;
        }
        catch (FuseException e)
        {
            failures.Write(entry.Path, e);
            return e.Errno;
        }
    }

    sealed class Held(byte[] value, QomEntry entry)
    {
        public byte[] Value { get; } = value;
        public QomEntry Entry { get; } = entry;
        public ITimer? Timer { get; set; }
    }
}
