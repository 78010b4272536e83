using System.Text.Json;
using System.Threading.Channels;

namespace QomFs.Qmp;

/// <summary>An asynchronous event. <see cref="Json"/> is the whole message as the server sent it.</summary>
public sealed record QmpEvent(string Name, JsonElement Data, DateTimeOffset Timestamp, string Json)
{
    /// <summary>The whole message as a JSON element, parsed as the client parsed it when it came.</summary>
    public JsonElement ToElement() => QmpMessage.Element(System.Text.Encoding.UTF8.GetBytes(Json));
}

/// <summary>
/// A subscriber's own bounded queue of events. A subscriber that falls behind loses its oldest events, counted in
/// <see cref="Dropped"/>, and never holds up command replies.
/// </summary>
public sealed class QmpEventSubscription : IDisposable
{
    readonly Channel<QmpEvent> _channel;
    readonly Action<QmpEventSubscription> _unsubscribe;
    long _dropped;

    internal QmpEventSubscription(int capacity, Action<QmpEventSubscription> unsubscribe)
    {
        _unsubscribe = unsubscribe;
        _channel = Channel.CreateBounded<QmpEvent>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true },
            _ => Interlocked.Increment(ref _dropped));
    }

    public ChannelReader<QmpEvent> Reader => _channel.Reader;

    /// <summary>How many events were dropped because this subscriber's queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    internal void Post(QmpEvent e) => _channel.Writer.TryWrite(e);
    internal void Complete() => _channel.Writer.TryComplete();

    public void Dispose()
    {
        _unsubscribe(this);
        Complete();
    }
}
