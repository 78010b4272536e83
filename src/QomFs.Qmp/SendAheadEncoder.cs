using System.Text;
using System.Text.Json;

namespace QomFs.Qmp;

/// <summary>
/// The socket transport's encoding for <see cref="QmpClientOptions.SendAheadArgument"/>: every request is written
/// with its arguments first, and the opening of the next one, <c>{"arguments":{"</c> and the argument's name, goes
/// out right behind it, so that QEMU (one request byte per main-loop iteration) reads those bytes while the next
/// command is still being worked out. An anticipated request (<see cref="Anticipate"/>) extends that opening to all
/// of the request but its closing brace. A request that does not begin with what is on the wire gets it closed first
/// into a request of its own that QEMU refuses (it has no <c>execute</c>, or a member QMP does not know); that
/// refusal is this encoder's, and dropped here.
/// </summary>
sealed class SendAheadEncoder
{
    // Close what is on the wire into a request the server refuses: the opening gets no "execute"; an anticipated
    // request, all there but its closing brace, a member that QMP refuses before it runs anything.
    static ReadOnlySpan<byte> ClosedOpening => "\":0}}"u8;
    static ReadOnlySpan<byte> ClosedAnticipation => ",\"-\":0}"u8;

    readonly byte[] _opening;
    // Under _gate: the replies counted so far, the requests sent, and the positions among the replies of those
    // that answer a closed opening.
    readonly Lock _gate = new();
    readonly Queue<long> _closedOpenings = new();
    long _requests, _replies;
    // Sender only: what is on the wire of the next request (nothing before the first, then the opening or an
    // anticipated request without its closing brace).
    byte[] _onWire = [];

    /// <exception cref="ArgumentException">not a plain argument name.</exception>
    public SendAheadEncoder(string argument)
    {
        if (argument.Length == 0 || !argument.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new ArgumentException($"SendAheadArgument must be an argument name (letters, digits, '-', '_'), not \"{argument}\"");
        _opening = Encoding.UTF8.GetBytes("{\"arguments\":{\"" + argument);
    }

    /// <summary>A request with its arguments first.</summary>
    public static byte[] Encode(string command, Action<Utf8JsonWriter>? writeArguments) =>
        QmpRequest.Encode(command, writeArguments, id: null, argumentsFirst: true);

    /// <summary>
    /// What goes on the wire for <paramref name="request"/> (from <see cref="Encode"/>), given what went ahead of it,
    /// and the next opening behind it. One sender at a time, in the order of the wire.
    /// </summary>
    public byte[] ToWire(byte[] request)
    {
        var ahead = _onWire;
        _onWire = _opening;
        if (request.AsSpan().StartsWith(ahead))
        {
            lock (_gate) _requests++;
            return [.. request.AsSpan(ahead.Length), .. _opening];
        }
        lock (_gate)
        {
            _closedOpenings.Enqueue(_requests);
            _requests += 2;
        }
        return [.. Closing(ahead), .. request, .. _opening];
    }

    /// <summary>
    /// What goes on the wire now for a request that is likely to come next (from <see cref="Encode"/>): all of it
    /// but its closing brace, which only <see cref="ToWire"/> sends, so the server runs nothing before it is asked
    /// to. Empty when something else is ahead on the wire already. One sender at a time, as for ToWire.
    /// </summary>
    public byte[] Anticipate(byte[] request)
    {
        var head = request.AsSpan(0, request.Length - 1);
        // Only over the opening: a guess already on the wire stays until a request closes or completes it.
        if (!_onWire.AsSpan().SequenceEqual(_opening) || !head.StartsWith(_opening) || head.Length == _opening.Length) return [];
        var more = head[_onWire.Length..].ToArray();
        _onWire = head.ToArray();
        return more;
    }

    ReadOnlySpan<byte> Closing(byte[] ahead) => ahead.AsSpan().SequenceEqual(_opening) ? ClosedOpening : ClosedAnticipation;

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
