using BitFaster.Caching.Lru;

namespace QomFs;

/// <summary>The daemon log's lines for operations that failed: every failed write, and each read failure once.</summary>
sealed class FailureLog(DaemonLog log)
{
    // The read failure last logged for each file. A refusal served from the cache comes back as the very same
    // exception, so `grep -r` every few seconds logs each refusal once per fetch, not once per read.
    readonly ConcurrentLru<string, Exception> _loggedReads = new(64);

    /// <returns>the errno the read fails with.</returns>
    public int Read(string path, Exception e)
    {
        if (!_loggedReads.TryGet(path, out var last) || !ReferenceEquals(last, e))
        {
            _loggedReads.AddOrUpdate(path, e);
            log.Write($"read {path}: {e.Message}");
        }
        return ErrnoMapping.ForRead(e);
    }

    public void Write(string path, Exception e) => log.Write($"write {path}: {e.Message}");
}
