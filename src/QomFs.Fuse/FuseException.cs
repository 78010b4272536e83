namespace QomFs.Fuse;

/// <summary>
/// Thrown from a callback to fail the request with a specific errno. Any other exception fails it with EIO;
/// either way no exception ever crosses into libfuse.
/// </summary>
public class FuseException : Exception
{
    /// <param name="errno">The errno, positive or negative (<c>Errno.ENOENT</c> and <c>-Errno.ENOENT</c> mean the same).</param>
    public FuseException(int errno, string? message = null, Exception? inner = null)
        : base(message ?? $"errno {Math.Abs(errno)}", inner)
    {
        if (errno == 0) throw new ArgumentOutOfRangeException(nameof(errno), "a failure needs a non-zero errno");
        Errno = Math.Abs(errno);
    }

    /// <summary>The positive errno.</summary>
    public int Errno { get; }
}
