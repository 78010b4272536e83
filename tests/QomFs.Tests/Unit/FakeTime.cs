namespace QomFs.Tests.Unit;

/// <summary>A clock that moves only when told: its timers fire, on the caller's thread, as <see cref="Advance"/> passes them.</summary>
sealed class FakeTime : TimeProvider
{
    readonly List<FakeTimer> _timers = [];
    DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new FakeTimer(this, callback, state, _now + dueTime);
        lock (_timers) _timers.Add(timer);
        return timer;
    }

    /// <summary>The timers neither fired nor disposed.</summary>
    public int Pending
    {
        get { lock (_timers) return _timers.Count; }
    }

    public void Advance(TimeSpan by)
    {
        _now += by;
        FakeTimer[] due;
        lock (_timers)
        {
            due = _timers.Where(t => t.Due <= _now).ToArray();
            foreach (var t in due) _timers.Remove(t);
        }
        foreach (var t in due) t.Fire();
    }

    // One-shot timers: all that held writes use.
    sealed class FakeTimer(FakeTime time, TimerCallback callback, object? state, DateTimeOffset due) : ITimer
    {
        public DateTimeOffset Due { get; } = due;
        public void Fire() => callback(state);
        public bool Change(TimeSpan dueTime, TimeSpan period) => throw new NotSupportedException();
        public void Dispose() { lock (time._timers) time._timers.Remove(this); }
        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
