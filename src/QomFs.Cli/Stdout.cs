using System.Runtime.InteropServices;

namespace QomFs.Cli;

/// <summary>
/// File descriptor 1 as a stream of plain write(2) calls, for the one-shot qom commands and qemu-ga-client cat. The
/// stream from Console.OpenStandardOutput sets up .NET's terminal and signal handling (a thread of its own) at its
/// first write, which a command that only prints a value pays at every start for nothing. Like that stream, it takes a
/// reader that went away (EPIPE) for success, but it stops the command there (<see cref="ReaderGoneException"/>):
/// nothing more is asked of QEMU for a reader that is gone (<c>qom-tree / | head -1</c>). It waits when the descriptor
/// is non-blocking and full. Asynchronous writes complete synchronously: they must not hand work to the thread pool
/// either.
/// </summary>
sealed class Stdout : Stream
{
    const int Descriptor = 1;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var errno = LibC.WriteAll(Descriptor, buffer);
        if (errno == LibC.EPIPE) throw new ReaderGoneException();
        if (errno != 0) throw new IOException($"cannot write to standard output: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override void Flush() { }
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>Standard output's reader went away: the command stops, and exits as if it had finished.</summary>
sealed class ReaderGoneException() : IOException("standard output's reader went away");
