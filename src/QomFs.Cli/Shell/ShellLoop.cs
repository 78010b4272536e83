using System.Runtime.InteropServices;
using System.Text;
using QomFs.Qmp;

namespace QomFs.Cli.Shell;

/// <summary>
/// The shell's one thread: polls standard input and an eventfd that other threads use to say "an event came", "a
/// reply came", "a signal came". Everything that touches readline or the screen happens here, so an event can be
/// printed above the line being edited without racing the editor. One command runs at a time.
/// </summary>
sealed class ShellLoop : IDisposable
{
    readonly QmpClient _client;
    readonly ShellSession _session;
    readonly ShellOutput _output;
    readonly bool _interactive;
    readonly Waker _waker = new();
    readonly QmpEventSubscription _events;
    readonly SemaphoreSlim _eventsShown = new(0, 1);
    readonly List<PosixSignalRegistration> _signals = [];
    readonly List<byte> _script = [];
    Readline? _readline;
    Task<Outcome>? _running;
    CancellationTokenSource? _cancel;
    bool _inputDone, _failed;
    volatile bool _interrupted, _resized;
    volatile int _terminated;

    public ShellLoop(QmpClient client, ShellSession session, ShellOutput output, bool interactive)
    {
        _client = client;
        _session = session;
        _output = output;
        _interactive = interactive;
        _events = client.SubscribeEvents();
        _ = PumpEventsAsync();
        _ = client.Disconnected.ContinueWith(_ => _waker.Wake(), TaskScheduler.Default);
    }

    /// <summary>Interactive mode: readline with history and completion, and signals handled by the loop.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void EnableLineEditing(ShellCompletion completion)
    {
        var history = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".qmp-shell_history");
        try { _readline = Readline.Open(history, completion.Complete); }
        catch (DllNotFoundException)
        {
            _output.Err("qmp-shell: no line editing: libreadline.so.8 is missing (Debian: libreadline8)\n");
            return;
        }
        _signals.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; _interrupted = true; _waker.Wake(); }));
        _signals.Add(PosixSignalRegistration.Create(PosixSignal.SIGWINCH, c => { c.Cancel = true; _resized = true; _waker.Wake(); }));
        foreach (var s in new[] { PosixSignal.SIGTERM, PosixSignal.SIGHUP })
            _signals.Add(PosixSignalRegistration.Create(s, c => { c.Cancel = true; _terminated = c.Signal == PosixSignal.SIGTERM ? 128 + 15 : 128 + 1; _waker.Wake(); }));
    }

    // Wakes the loop when events are waiting, then waits until the loop has shown them.
    async Task PumpEventsAsync()
    {
        while (await _events.Reader.WaitToReadAsync())
        {
            _waker.Wake();
            await _eventsShown.WaitAsync();
        }
        _waker.Wake();
    }

    public int Run()
    {
        Span<LibC.PollFd> fds = stackalloc LibC.PollFd[2];
        var buffer = new byte[4096];
        while (true)
        {
            if (_readline is not null && _running is null && !_readline.IsPrompting) _readline.Prompt(_session.Prompt);

            var wantInput = _running is null && !_inputDone && (_readline?.IsPrompting ?? !HasScriptLine());
            fds[0] = new LibC.PollFd { Fd = _waker.Fd, Events = LibC.POLLIN };
            fds[1] = new LibC.PollFd { Fd = 0, Events = LibC.POLLIN };
            LibC.WaitForAny(fds[..(wantInput ? 2 : 1)], -1);
            _waker.Drain();

            if (_terminated != 0) return Quit(_terminated);
            HandleSignals();
            if (wantInput && (fds[1].Revents & (LibC.POLLIN | LibC.POLLHUP | LibC.POLLERR | LibC.POLLNVAL)) != 0)
            {
                if (_readline is not null) _readline.ReadChar();
                else ReadScript(buffer);
            }
            ShowEvents();

            if (_running is { IsCompleted: true })
            {
                var outcome = _running.Result;
                _running = null;
                if (outcome.Lost is not null) return Disconnected(outcome.Lost);
                Show(outcome);
            }
            if (_running is null && !_client.IsConnected) return Disconnected(_client.Disconnected.Result);

            while (_running is null && NextLine() is { } line) StartLine(line);
            if (_running is null && _inputDone && !HasScriptLine()) return Finish();
        }
    }

    string? NextLine()
    {
        if (_readline is not null)
        {
            if (!_readline.TryTakeLine(out var line, out var eof)) return null;
            if (eof) { _output.Out("\n"); _inputDone = true; return null; }
            _readline.AddHistory(line!);
            return line;
        }
        var newline = _script.IndexOf((byte)'\n');
        if (newline < 0 && !(_inputDone && _script.Count > 0)) return null;
        var length = newline < 0 ? _script.Count : newline;
        var text = Encoding.UTF8.GetString(_script.GetRange(0, length).ToArray()).TrimEnd('\r');
        _script.RemoveRange(0, Math.Min(_script.Count, length + 1));
        return text;
    }

    bool HasScriptLine() => _readline is null && (_script.Contains((byte)'\n') || (_inputDone && _script.Count > 0));

    void ReadScript(byte[] buffer)
    {
        var n = LibC.ReadAvailable(0, buffer);
        if (n == 0) _inputDone = true;
        else if (n > 0) _script.AddRange(buffer.AsSpan(0, n));
    }

    void StartLine(string line)
    {
        _cancel?.Dispose();
        _cancel = new CancellationTokenSource();
        _running = _session.Start(line, _cancel.Token);
        // Even one already complete (a syntax error) wakes the loop, which shows it on its next pass.
        _running?.ContinueWith(_ => _waker.Wake(), TaskScheduler.Default);
    }

    void Show(Outcome o)
    {
        if (o.Failed) _failed = true;
        _session.LogOutcome(o);
        if (o.Out.Length > 0) _output.Out(o.Out);
        if (o.Err.Length > 0) _output.Err(o.Err);
    }

    void ShowEvents()
    {
        var text = new StringBuilder();
        while (_events.Reader.TryRead(out var e))
        {
            _session.LogEvent(e);
            text.Append(_output.Event(e, forPeople: _interactive)).Append('\n');
        }
        if (_eventsShown.CurrentCount == 0) _eventsShown.Release();
        if (text.Length == 0) return;
        if (_readline is not null) _readline.PrintAbove(() => _output.Out(text.ToString()));
        else _output.Out(text.ToString());
    }

    void HandleSignals()
    {
        if (_resized) { _resized = false; _readline?.Resize(); }
        if (!_interrupted) return;
        _interrupted = false;
        if (_running is not null) { _cancel?.Cancel(); return; }
        var note = _session.Syntax.InTransaction ? "transaction cancelled: nothing was sent\n" : "";
        _session.Syntax.CancelTransaction();
        _readline?.CancelLine(_session.Prompt, note);
    }

    int Finish()
    {
        if (_session.Syntax.InTransaction && _readline is null)
        {
            _output.Err("Error: the input ended inside a transaction: nothing was sent\n");
            _failed = true;
        }
        return _readline is not null ? ExitCodes.Ok : _failed ? ExitCodes.Refused : ExitCodes.Ok;
    }

    int Quit(int code)
    {
        _readline?.Dispose();
        _readline = null;
        return code;
    }

    int Disconnected(Exception reason)
    {
        var prompting = _readline?.IsPrompting ?? false;
        _readline?.Dispose();
        _readline = null;
        if (prompting) _output.Out("\n");
        _output.Err($"Disconnected ({reason.Message})\n");
        return ExitCodes.Unreachable;
    }

    public void Dispose()
    {
        foreach (var s in _signals) s.Dispose();
        _readline?.Dispose();
        _events.Dispose();
        _waker.Dispose();
        _cancel?.Dispose();
    }
}
