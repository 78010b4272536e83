using System.Text.Json;

namespace QomFs.Qmp;

/// <summary>
/// What carries a <see cref="QmpClient"/>'s session: requests out, the peer's messages in, in the order the peer
/// sent them. Message-level rather than a byte stream, so that a way to QEMU that is no socket fits as well as one
/// that is: libvirt's <c>virDomainQemuMonitorCommand</c> takes a request's text and returns its reply's, and its
/// event loop calls back with events, which such a transport queues for <see cref="Receive"/>.
/// The client matches replies to requests by their order alone, and owns the timeouts, abandoned commands and
/// events; the transport owns the framing and whatever its encoding adds (see
/// <see cref="QmpClientOptions.SendAheadArgument"/>). The client disposes its transport when the session ends;
/// a <see cref="Receive"/> blocked in another thread must then return at once (null, or a QmpConnectionException).
/// </summary>
public interface IQmpTransport : IDisposable
{
    /// <summary>
    /// Whether the session is in command mode already: libvirt greets and negotiates with QEMU itself. The client
    /// then reads no greeting and sends no <c>qmp_capabilities</c>, and its <see cref="QmpClient.Greeting"/> is null.
    /// </summary>
    bool Negotiated { get; }

    /// <summary>Encodes a request for <see cref="Send"/>; any thread, at any time.</summary>
    /// <param name="writeArguments">writes the members of the <c>arguments</c> object; null for none.</param>
    byte[] Encode(string command, Action<Utf8JsonWriter>? writeArguments);

    /// <summary>
    /// Sends a request made by <see cref="Encode"/>. One caller at a time, in the order the replies are to come.
    /// </summary>
    /// <exception cref="TimeoutException">the peer took not all of it in time: the session cannot go on.</exception>
    /// <exception cref="QmpConnectionException">the connection is gone.</exception>
    void Send(byte[] request, TimeSpan timeout);

    /// <summary>
    /// A hint that a request made by <see cref="Encode"/> is likely to be the next one sent: a transport may send
    /// part of it now, but the peer must run nothing before <see cref="Send"/> sends it. Called as Send is (one
    /// caller at a time, in the order of the wire); by default it does nothing.
    /// </summary>
    /// <returns>whether anything was sent.</returns>
    /// <exception cref="TimeoutException">the peer took not all of it in time: the session cannot go on.</exception>
    /// <exception cref="QmpConnectionException">the connection is gone.</exception>
    bool Anticipate(byte[] request, TimeSpan timeout) => false;

    /// <summary>
    /// Blocks until the peer's next message (one JSON object, without framing) and returns it, valid until the next
    /// call; null once the peer has closed the session or the transport was disposed. One caller at a time.
    /// </summary>
    /// <exception cref="TimeoutException">nothing within <paramref name="timeout"/>; the session goes on.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancel"/> was cancelled; the session goes on.</exception>
    /// <exception cref="QmpConnectionException">the connection failed.</exception>
    /// <exception cref="QmpProtocolException">the peer broke the framing (e.g. an oversized message).</exception>
    ReadOnlyMemory<byte>? Receive(TimeSpan timeout, CancellationToken cancel);
}
