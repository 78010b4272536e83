using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace QomFs.Qmp;

/// <summary>
/// A connected stream socket, read and written with blocking calls on the caller's thread: what the QMP transport
/// and the guest-agent client share. Its failures are the raw ones (<see cref="IOException"/>,
/// <see cref="TimeoutException"/>, <see cref="ObjectDisposedException"/> once closed); each protocol words them.
/// </summary>
sealed class SocketConnection : IDisposable
{
    readonly SafeHandle _handle;
    // What owns the descriptor when .NET made it (TCP), disposed in its stead; null when we did.
    readonly Socket? _owner;

    public SocketConnection(SafeHandle handle, Socket? owner, int maxMessageBytes)
    {
        _handle = handle;
        _owner = owner;
        Reader = new MessageReader(handle, maxMessageBytes);
    }

    /// <summary>The messages coming in; one reader at a time.</summary>
    public MessageReader Reader { get; }

    /// <summary>Sends all of <paramref name="data"/> by <paramref name="deadline"/> (a <see cref="RawSocket.Deadline"/>).</summary>
    /// <exception cref="TimeoutException">the peer did not take it in time; part of it may be sent.</exception>
    public void Send(ReadOnlySpan<byte> data, long deadline) => RawSocket.Send(_handle, data, deadline);

    /// <summary>Shuts the socket down, so that a read blocked on it in another thread returns at once, and closes it.</summary>
    public void Dispose()
    {
        try { RawSocket.Shutdown(_handle); } catch (ObjectDisposedException) { }
        if (_owner is null) _handle.Dispose(); else _owner.Dispose();
    }
}
