using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace QomFs.Qmp;

/// <summary>Opens a stream socket to a <see cref="QmpAddress"/>, within a deadline.</summary>
static class SocketConnector
{
    /// <summary>
    /// Connects, for a caller that reads and writes with blocking calls (<see cref="RawSocket"/>): a unix or vsock
    /// socket then never becomes a .NET <see cref="Socket"/>, whose creation starts the socket engine's thread, a
    /// millisecond of a one-shot tool's run. A TCP socket is connected by .NET, and that Socket owns it.
    /// </summary>
    public static async Task<SocketConnection> ConnectAsync(QmpAddress address, TimeSpan timeout, int maxMessageBytes,
        CancellationToken cancel = default)
    {
        // Made only where needed: a deadline is a timer, and the first timer starts a thread.
        CancellationTokenSource? deadline = null;
        CancellationToken Deadline()
        {
            deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            deadline.CancelAfter(timeout);
            return deadline.Token;
        }
        Socket? socket = null;
        try
        {
            switch (address.Kind)
            {
                case QmpAddressKind.Unix:
                    return new SocketConnection(ConnectUnix(address), null, maxMessageBytes);
                case QmpAddressKind.Tcp:
                    socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    await socket.ConnectAsync(address.Host, address.Port, Deadline());
                    return new SocketConnection(socket.SafeHandle, socket, maxMessageBytes);
                case QmpAddressKind.Vsock:
                    return new SocketConnection(await Task.Run(() => ConnectVsock(address), Deadline()), null, maxMessageBytes);
                default:
                    throw new QmpConnectionException($"cannot connect to {address}: libvirt leads to QEMU's monitor only, not to a socket");
            }
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            socket?.Dispose();
            throw new QmpTimeoutException($"cannot connect to {address}: no answer within {timeout.TotalSeconds:0.###} s");
        }
        catch (SocketException e)
        {
            socket?.Dispose();
            throw new QmpConnectionException($"cannot connect to {address}: {e.Message}", e);
        }
        finally
        {
            deadline?.Dispose();
        }
    }

    // A unix connect completes at once or fails, so it is made with libc: .NET's Socket would start its socket
    // engine (a thread) first. Non-blocking, so that a full listen backlog fails at once (EAGAIN) rather than hangs.
    static unsafe SocketDescriptor ConnectUnix(QmpAddress address)
    {
        var path = System.Text.Encoding.UTF8.GetBytes(address.Path);
        if (path.Length >= LibC.SunPathLength) throw new QmpConnectionException($"cannot connect to {address}: the path is longer than {LibC.SunPathLength - 1} bytes");
        var sa = new LibC.SockaddrUn { Family = LibC.AF_UNIX };
        path.CopyTo(new Span<byte>(sa.Path, LibC.SunPathLength));
        return Connect(address, LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, &sa, sizeof(LibC.SockaddrUn));
    }

    // .NET's Socket has no AF_VSOCK endpoint, so the socket is made and connected with libc.
    static unsafe SocketDescriptor ConnectVsock(QmpAddress address)
    {
        var sa = new LibC.SockaddrVm { Family = LibC.AF_VSOCK, Port = (uint)address.Port, Cid = address.Cid };
        return Connect(address, LibC.AF_VSOCK, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, &sa, sizeof(LibC.SockaddrVm));
    }

    static unsafe SocketDescriptor Connect(QmpAddress address, int family, int type, void* sockaddr, int length)
    {
        var fd = LibC.Socket(family, type, 0);
        if (fd < 0) throw Failed(address, Marshal.GetLastPInvokeError());
        if (LibC.Connect(fd, sockaddr, length) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            LibC.Close(fd);
            throw Failed(address, errno);
        }
        return new SocketDescriptor(fd);
    }

    static QmpException Failed(QmpAddress address, int errno) => errno switch
    {
        LibC.EAGAIN => new QmpTimeoutException($"cannot connect to {address}: it takes no more connections (is another client connected to it?)"),
        LibC.ENOENT when address.Kind == QmpAddressKind.Unix => new QmpConnectionException($"cannot connect to {address}: no such socket"),
        LibC.ECONNREFUSED when address.Kind == QmpAddressKind.Unix && LibC.IsOtherThanSocket(address.Path) =>
            new QmpConnectionException($"cannot connect to {address}: not a socket"),
        _ => new QmpConnectionException($"cannot connect to {address}: {Marshal.GetPInvokeErrorMessage(errno)}"),
    };
}
