namespace QomFs.Qmp;

/// <summary>
/// The commands whose reply has not come yet, in the order they were sent, including those given up on (timeout,
/// cancel): their late replies still take their turn, and are counted as stray. Once the connection has ended, for
/// a reason kept here, every command fails with a copy of that reason.
/// QEMU answers a session's commands in order, so once one has timed out unanswered no later one can be answered
/// sooner: the session is stalled, and every command sent after it fails at once, as does every new one, until that
/// command's late reply comes. A frozen QEMU then costs one timeout, however many commands an operation needs. The
/// commands sent before it keep their own deadlines: a slow command may still be answered after a quicker one behind
/// it gave up. A command without a deadline is never failed for another's: it is sent, and waits its turn.
/// </summary>
sealed class InFlightCommands
{
    readonly Lock _gate = new();
    readonly Queue<PendingCommand> _queue = new();
    QmpException? _ended;
    // Under _gate: why commands fail at once while one is unanswered past its deadline, and the last such command's
    // Sequence (the stall ends with its reply); null otherwise.
    string? _stalled;
    long _stalledUntil;
    long _sent;
    long _strayReplies;

    public bool Ended => Volatile.Read(ref _ended) is not null;
    public long StrayReplies => Interlocked.Read(ref _strayReplies);

    /// <summary>Queues a command about to be sent.</summary>
    /// <exception cref="QmpException">the connection has ended: a copy of why.</exception>
    /// <exception cref="QmpTimeoutException">the session is stalled: the command is not sent.</exception>
    public void Add(PendingCommand command)
    {
        lock (_gate)
        {
            if (_ended is not null) throw Copy(_ended);
            if (_stalled is not null && !command.WaitsForever) throw new QmpTimeoutException($"{command.Command}: not sent: {_stalled}");
            command.Sequence = ++_sent;
            _queue.Enqueue(command);
        }
    }

    /// <summary>The command a reply answers: the oldest one sent. Null if it was given up on.</summary>
    /// <exception cref="QmpProtocolException">a reply when no command is waiting for one.</exception>
    public PendingCommand? TakeAnswered()
    {
        PendingCommand command;
        lock (_gate)
        {
            if (!_queue.TryDequeue(out command!)) throw new QmpProtocolException("a reply to no command");
            command.Answered = true;
            if (command.Sequence >= _stalledUntil) _stalled = null;
        }
        if (!command.Abandoned) return command;
        Interlocked.Increment(ref _strayReplies);
        return null;
    }

    /// <summary>Gives up on a command: false when its reply (or the end of the connection) came first, or it was given up on already.</summary>
    public bool Abandon(PendingCommand command)
    {
        lock (_gate)
        {
            if (command.Answered || command.Abandoned || _ended is not null) return false;
            command.Abandoned = true;
            return true;
        }
    }

    /// <summary>
    /// Gives up on a command whose deadline passed: false when its reply (or the end of the connection) came first.
    /// The session is then stalled (see the class remarks): <paramref name="behind"/> are the commands sent after it
    /// and still waiting, given up on too, to fail with <paramref name="why"/>.
    /// </summary>
    public bool TimedOut(PendingCommand command, string why, out PendingCommand[] behind)
    {
        lock (_gate)
        {
            behind = [];
            if (!Abandon(command)) return false;
            if (command.Sequence >= _stalledUntil) (_stalled, _stalledUntil) = (why, command.Sequence);
            behind = _queue.Where(c => c.Sequence > command.Sequence && !c.Abandoned && !c.WaitsForever).ToArray();
            foreach (var c in behind) c.Abandoned = true;
            return true;
        }
    }

    /// <summary>
    /// Marks the connection ended: false if it had ended already. <paramref name="pending"/> are the commands to
    /// fail (<see cref="Fail"/>) once the caller has closed what needs closing first.
    /// </summary>
    public bool End(QmpException reason, out PendingCommand[] pending)
    {
        lock (_gate)
        {
            pending = [];
            if (_ended is not null) return false;
            Volatile.Write(ref _ended, reason);
            pending = [.. _queue];
            _queue.Clear();
            return true;
        }
    }

    public static void Fail(PendingCommand[] pending, QmpException reason)
    {
        var error = Copy(reason);
        foreach (var p in pending) p.TrySetException(error);
    }

    // Each failure its own exception, thrown from its own await, with the same type and message as the reason.
    static QmpException Copy(QmpException reason) => reason switch
    {
        QmpProtocolException => new QmpProtocolException(reason.Message, reason),
        _ => new QmpConnectionException(reason.Message, reason),
    };
}
