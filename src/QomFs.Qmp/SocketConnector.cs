using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace QomFs.Qmp;

/// <summary>Opens a stream socket to a <see cref="QmpAddress"/>, within a deadline.</summary>
public static partial class SocketConnector
{
    public static async Task<Socket> ConnectAsync(QmpAddress address, TimeSpan timeout, CancellationToken cancel = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(timeout);
        Socket? socket = null;
        try
        {
            switch (address.Kind)
            {
                case QmpAddressKind.Unix:
                    // A unix connect completes at once or fails, so it needs no socket engine (and its thread); only
                    // a full listen backlog makes it wait, for at most the send timeout.
                    socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
                    {
                        SendTimeout = (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue),
                    };
                    socket.Connect(new UnixDomainSocketEndPoint(address.Path));
                    break;
                case QmpAddressKind.Tcp:
                    socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    await socket.ConnectAsync(address.Host, address.Port, deadline.Token);
                    break;
                default:
                    socket = await Task.Run(() => ConnectVsock(address), deadline.Token);
                    break;
            }
            return socket;
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            socket?.Dispose();
            throw new QmpTimeoutException($"cannot connect to {address}: no answer within {timeout.TotalSeconds:0.###} s");
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.TimedOut)
        {
            socket?.Dispose();
            throw new QmpTimeoutException($"cannot connect to {address}: no answer within {timeout.TotalSeconds:0.###} s");
        }
        catch (SocketException e)
        {
            socket?.Dispose();
            // .NET words a missing unix socket file as "Cannot assign requested address"; say what it is.
            var reason = address.Kind == QmpAddressKind.Unix && !File.Exists(address.Path) ? "no such socket" : e.Message;
            throw new QmpConnectionException($"cannot connect to {address}: {reason}", e);
        }
    }

    const int AF_VSOCK = 40, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000;

    [StructLayout(LayoutKind.Sequential)]
    struct SockaddrVm
    {
        public ushort Family;
        public ushort Reserved1;
        public uint Port;
        public uint Cid;
        public uint Flags; // svm_flags and svm_zero: must be zero
    }

    // .NET's Socket has no AF_VSOCK endpoint, so the socket is made and connected with libc and then adopted.
    static Socket ConnectVsock(QmpAddress address)
    {
        var fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) throw Failed(address, Marshal.GetLastPInvokeError());
        var sa = new SockaddrVm { Family = AF_VSOCK, Port = (uint)address.Port, Cid = address.Cid };
        if (connect(fd, ref sa, Marshal.SizeOf<SockaddrVm>()) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            close(fd);
            throw Failed(address, errno);
        }
        return new Socket(new SafeSocketHandle(fd, ownsHandle: true));
    }

    static QmpConnectionException Failed(QmpAddress address, int errno) =>
        new($"cannot connect to {address}: {Marshal.GetPInvokeErrorMessage(errno)}");

    [LibraryImport("libc", SetLastError = true)] private static partial int socket(int domain, int type, int protocol);
    [LibraryImport("libc", SetLastError = true)] private static partial int connect(int fd, ref SockaddrVm addr, int len);
    [LibraryImport("libc")] private static partial int close(int fd);
}
