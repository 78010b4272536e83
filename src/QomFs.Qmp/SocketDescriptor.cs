using Microsoft.Win32.SafeHandles;

namespace QomFs.Qmp;

/// <summary>
/// A socket descriptor we made with libc, closed with libc. Not a <see cref="System.Net.Sockets.SafeSocketHandle"/>:
/// creating one of those starts .NET's socket engine (an epoll instance and a thread), which a one-shot tool that
/// reads and writes with blocking calls (<see cref="RawSocket"/>) never needs.
/// </summary>
sealed class SocketDescriptor : SafeHandleZeroOrMinusOneIsInvalid
{
    public SocketDescriptor(int fd) : base(ownsHandle: true) => SetHandle(fd);

    protected override bool ReleaseHandle() => LibC.Close((int)handle) == 0;
}
