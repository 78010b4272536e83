using System.Text;
using System.Text.Json;

namespace QomFs.Qmp;

/// <summary>Hands each event to every subscriber's own bounded queue; never waits for a subscriber.</summary>
sealed class EventFanout
{
    readonly Lock _gate = new();
    QmpEventSubscription[] _subscribers = [];
    bool _completed;

    /// <summary>A queue of the events from now on; one that is completed at once when the connection has ended.</summary>
    public QmpEventSubscription Subscribe(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var subscription = new QmpEventSubscription(capacity, Unsubscribe);
        lock (_gate)
        {
            if (_completed) subscription.Complete();
            else _subscribers = [.. _subscribers, subscription];
        }
        return subscription;
    }

    void Unsubscribe(QmpEventSubscription s)
    {
        lock (_gate) _subscribers = _subscribers.Where(x => x != s).ToArray();
    }

    /// <summary>Posts an event message (<paramref name="line"/>, scanned as <paramref name="message"/>) to every subscriber.</summary>
    public void Publish(in QmpMessage message, ReadOnlySpan<byte> line)
    {
        var subscribers = Volatile.Read(ref _subscribers);
        if (subscribers.Length == 0) return;
        JsonElement data = default;
        if (message.Value.End.Value > 0)
        {
            var reader = new Utf8JsonReader(line[message.Value], new JsonReaderOptions { MaxDepth = QmpMessage.MaxDepth });
            data = JsonElement.ParseValue(ref reader);
        }
        var e = new QmpEvent(message.EventName!, data, message.Timestamp, Encoding.UTF8.GetString(line));
        foreach (var s in subscribers) s.Post(e);
    }

    /// <summary>Completes every subscriber's queue: no more events will come.</summary>
    public void Complete()
    {
        QmpEventSubscription[] subscribers;
        lock (_gate)
        {
            _completed = true;
            subscribers = _subscribers;
            _subscribers = [];
        }
        foreach (var s in subscribers) s.Complete();
    }
}
