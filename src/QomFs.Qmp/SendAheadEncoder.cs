using System.Text;
using System.Text.Json;

namespace QomFs.Qmp;

/// <summary>
/// The socket transport's encoding for <see cref="QmpClientOptions.SendAheadArgument"/>: every request is written
/// with its arguments first, and the opening of the next one, <c>{"arguments":{"</c> and the argument's name, goes
/// out right behind it, so that QEMU 7.2 (one request byte per main-loop iteration) reads those bytes while the next
/// command is still being worked out. A request that does not begin so gets the opening closed first into a request
/// of its own that QEMU refuses (it has no <c>execute</c>); that refusal is this encoder's, and dropped here.
/// </summary>
sealed class SendAheadEncoder
{
    // Closes an opening into a request the server refuses: it has no "execute".
    static ReadOnlySpan<byte> ClosedOpening => "\":0}}"u8;

    readonly byte[] _opening;
    // Under _gate: the replies counted so far, the requests sent, and the positions among the replies of those
    // that answer a closed opening.
    readonly Lock _gate = new();
    readonly Queue<long> _closedOpenings = new();
    long _requests, _replies;
    // Sender only: whether the next request's opening is on the wire already.
    bool _openingSent;

    /// <exception cref="ArgumentException">not a plain argument name.</exception>
    public SendAheadEncoder(string argument)
    {
        if (argument.Length == 0 || !argument.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new ArgumentException($"SendAheadArgument must be an argument name (letters, digits, '-', '_'), not \"{argument}\"");
        _opening = Encoding.UTF8.GetBytes("{\"arguments\":{\"" + argument);
    }

    /// <summary>A request with its arguments first and the next request's opening behind it.</summary>
    public byte[] Encode(string command, Action<Utf8JsonWriter>? writeArguments) =>
        QmpRequest.Encode(command, writeArguments, id: null, suffix: _opening, argumentsFirst: true);

    /// <summary>
    /// What goes on the wire for <paramref name="request"/> (from <see cref="Encode"/>), given the opening sent
    /// ahead before it. One sender at a time, in the order of the wire.
    /// </summary>
    public ReadOnlySpan<byte> ToWire(byte[] request)
    {
        var first = !_openingSent;
        _openingSent = true;
        // The first request carries its own opening; later ones follow the opening that went out before them.
        if (first || request.AsSpan().StartsWith(_opening))
        {
            lock (_gate) _requests++;
            return request.AsSpan(first ? 0 : _opening.Length);
        }
        lock (_gate)
        {
            _closedOpenings.Enqueue(_requests);
            _requests += 2;
        }
        byte[] closed = [.. ClosedOpening, .. request];
        return closed;
    }

    /// <summary>Whether a message is the refusal of a closed opening, to be dropped. Every message comes through here, in order.</summary>
    public bool IsOwnReply(ReadOnlySpan<byte> message)
    {
        if (QmpMessage.Parse(message).Kind is not (QmpMessageKind.Return or QmpMessageKind.Error)) return false;
        lock (_gate)
        {
            var reply = _replies++;
            if (!_closedOpenings.TryPeek(out var own) || own != reply) return false;
            _closedOpenings.Dequeue();
            return true;
        }
    }
}
