using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace QomFs.Qmp.Tests.Transport;

/// <summary>A transport in memory, whose peer is the test: what it sends is recorded, what it receives is pushed.</summary>
sealed class FakeTransport : IQmpTransport
{
    readonly BlockingCollection<string> _incoming = new();
    readonly ConcurrentQueue<string> _sent = new();

    public bool Negotiated { get; init; } = true;
    /// <summary>Set to make the next sends fail as a socket whose peer takes nothing.</summary>
    public bool SendTimesOut { get; set; }
    /// <summary>A peer that answers as soon as a request is sent: the reply to it, or null for none yet.</summary>
    public Func<string, string?>? Answer { get; init; }
    public bool Disposed { get; private set; }
    public string[] Sent => [.. _sent];

    public void Push(string message) => _incoming.Add(message);

    /// <summary>The peer ends the session: every Receive from now on returns null.</summary>
    public void PeerCloses() => _incoming.CompleteAdding();

    // The command's name alone: enough to see what went out in which order.
    public byte[] Encode(string command, Action<Utf8JsonWriter>? writeArguments) => Encoding.UTF8.GetBytes(command);

    public void Send(byte[] request, TimeSpan timeout)
    {
        if (Disposed) throw new QmpConnectionException("the fake transport is disposed");
        if (SendTimesOut) throw new TimeoutException();
        var text = Encoding.UTF8.GetString(request);
        _sent.Enqueue(text);
        if (Answer?.Invoke(text) is { } reply) Push(reply);
    }

    public ReadOnlyMemory<byte>? Receive(TimeSpan timeout, CancellationToken cancel)
    {
        try
        {
            if (_incoming.TryTake(out var message, (int)timeout.TotalMilliseconds, cancel)) return Encoding.UTF8.GetBytes(message);
        }
        catch (InvalidOperationException) { return null; } // completed while waiting
        if (_incoming.IsCompleted) return null;
        throw new TimeoutException();
    }

    public void Dispose()
    {
        Disposed = true;
        _incoming.CompleteAdding();
    }
}
