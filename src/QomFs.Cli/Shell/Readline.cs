using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace QomFs.Cli.Shell;

/// <summary>
/// GNU readline through its callback interface: the loop polls stdin and calls <see cref="ReadChar"/> when a key is
/// there, so one thread owns readline (it is not thread-safe) and can also print events between keystrokes.
/// Completed lines arrive through a static callback; there is one instance per process.
/// </summary>
sealed unsafe partial class Readline : IDisposable
{
    const string Lib = "libreadline.so.8";
    const int HistorySize = 1024;

    /// <summary>Computes completions: (line before the word, the word) → candidates, and whether to append a space.</summary>
    public delegate (IReadOnlyList<string> Candidates, bool AppendSpace) Completer(string before, string word);

    static Completer? s_completer;
    static List<string> s_matches = [];
    static int s_nextMatch;
    static string? s_line;
    static bool s_eof, s_hasLine;

    readonly nint _library;
    readonly string _historyFile;
    string? _lastHistory;
    bool _installed;

    Readline(nint library, string historyFile)
    {
        _library = library;
        _historyFile = historyFile;
    }

    /// <exception cref="DllNotFoundException">libreadline8 is not installed.</exception>
    public static Readline Open(string historyFile, Completer completer)
    {
        var library = NativeLibrary.Load(Lib);
        var rl = new Readline(library, historyFile);
        s_completer = completer;
        // The loop handles SIGINT, SIGWINCH and SIGTERM itself, and readline must not call setenv behind .NET's back.
        rl.SetInt("rl_catch_signals", 0);
        rl.SetInt("rl_catch_sigwinch", 0);
        rl.SetInt("rl_change_environment", 0);
        *(nint*)rl.Export("rl_readline_name") = Marshal.StringToCoTaskMemUTF8("qmp-shell"); // for $if in ~/.inputrc; lives as long as the process
        *(nint*)rl.Export("rl_attempted_completion_function") = (nint)(delegate* unmanaged[Cdecl]<byte*, int, int, byte**>)&OnComplete;
        // A second Tab lists the candidates when the first could complete no further; ~/.inputrc may say otherwise.
        rl_variable_bind("show-all-if-unmodified\0"u8, "on\0"u8);
        rl.LoadHistory();
        return rl;
    }

    nint Export(string name) => NativeLibrary.GetExport(_library, name);
    void SetInt(string name, int value) => *(int*)Export(name) = value;

    /// <summary>Shows the prompt and starts taking keys.</summary>
    public void Prompt(string prompt)
    {
        s_hasLine = s_eof = false;
        var p = Marshal.StringToCoTaskMemUTF8(prompt);
        try { rl_callback_handler_install((byte*)p, &OnLine); } // readline keeps its own copy of the prompt
        finally { Marshal.FreeCoTaskMem(p); }
        _installed = true;
    }

    /// <summary>Feeds one key (stdin is readable). Afterwards <see cref="TryTakeLine"/> may have a line.</summary>
    public void ReadChar() => rl_callback_read_char();

    /// <summary>A finished line, or end of input (Ctrl-D on an empty line) as eof. The prompt is gone either way.</summary>
    public bool TryTakeLine(out string? line, out bool eof)
    {
        line = s_line;
        eof = s_eof;
        if (!s_hasLine && !s_eof) return false;
        _installed = false;
        s_line = null;
        s_hasLine = s_eof = false;
        return true;
    }

    /// <summary>Whether a prompt is on the screen (the user is editing a line).</summary>
    public bool IsPrompting => _installed;

    /// <summary>Prints text above the line being edited and redraws the prompt and the line as they were.</summary>
    public void PrintAbove(Action print)
    {
        if (!_installed) { print(); return; }
        rl_clear_visible_line();
        LibC.FlushStdio();
        print();
        rl_forced_update_display();
        LibC.FlushStdio();
    }

    /// <summary>Ctrl-C: leave the abandoned line on the screen with ^C after it, and show a fresh prompt.</summary>
    public void CancelLine(string prompt, string note = "")
    {
        if (!_installed) return;
        rl_callback_sigcleanup();
        SetInt("rl_point", *(int*)Export("rl_end"));
        rl_redisplay();
        LibC.FlushStdio();
        ShellOutput.WriteAll(1, "^C\n" + note);
        rl_callback_handler_remove();
        var empty = stackalloc byte[1];
        empty[0] = 0;
        rl_replace_line(empty, 1);
        Prompt(prompt);
    }

    public void Resize()
    {
        if (_installed) rl_resize_terminal();
    }

    public void AddHistory(string line)
    {
        if (line.Trim().Length == 0 || line == _lastHistory) return;
        _lastHistory = line;
        var p = Marshal.StringToCoTaskMemUTF8(line);
        var file = Marshal.StringToCoTaskMemUTF8(_historyFile);
        try
        {
            add_history((byte*)p);
            append_history(1, (byte*)file); // written at once, so a lost connection or a kill loses nothing
        }
        finally { Marshal.FreeCoTaskMem(p); Marshal.FreeCoTaskMem(file); }
    }

    void LoadHistory()
    {
        using_history();
        stifle_history(HistorySize);
        try
        {
            if (!File.Exists(_historyFile))
                File.WriteAllBytes(_historyFile, []); // append_history needs the file to exist
            _lastHistory = File.ReadLines(_historyFile).LastOrDefault();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return; // no history then; the shell still works
        }
        var file = Marshal.StringToCoTaskMemUTF8(_historyFile);
        try { read_history((byte*)file); }
        finally { Marshal.FreeCoTaskMem(file); }
    }

    public void Dispose()
    {
        if (_installed) rl_callback_handler_remove(); // restores the terminal's settings
        _installed = false;
        LibC.FlushStdio();
        var file = Marshal.StringToCoTaskMemUTF8(_historyFile);
        try { history_truncate_file((byte*)file, HistorySize); }
        finally { Marshal.FreeCoTaskMem(file); }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    static void OnLine(byte* line)
    {
        // Take the prompt down now: the loop runs the command and shows the prompt again after its reply.
        rl_callback_handler_remove();
        if (line is null) { s_eof = true; return; }
        s_line = Marshal.PtrToStringUTF8((nint)line) ?? "";
        s_hasLine = true;
        LibC.Free(line);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    static byte** OnComplete(byte* text, int start, int end)
    {
        var lib = NativeLibrary.Load(Lib); // already loaded: a reference count, no I/O
        *(int*)NativeLibrary.GetExport(lib, "rl_attempted_completion_over") = 1; // never fall back to file names
        try
        {
            var buffer = *(byte**)NativeLibrary.GetExport(lib, "rl_line_buffer");
            var before = Encoding.UTF8.GetString(buffer, start);
            var word = Marshal.PtrToStringUTF8((nint)text) ?? "";
            var (candidates, appendSpace) = s_completer is null ? ([], true) : s_completer(before, word);
            if (!appendSpace) *(int*)NativeLibrary.GetExport(lib, "rl_completion_append_character") = 0;
            s_matches = [.. candidates];
            s_nextMatch = 0;
            return s_matches.Count == 0 ? null : rl_completion_matches(text, &NextMatch);
        }
        catch (Exception)
        {
            return null; // a completion must never take the shell down
        }
        finally { NativeLibrary.Free(lib); }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    static byte* NextMatch(byte* text, int state)
    {
        if (s_nextMatch >= s_matches.Count) return null;
        // readline frees each match with free(): CoTaskMem is malloc on Unix.
        return (byte*)Marshal.StringToCoTaskMemUTF8(s_matches[s_nextMatch++]);
    }

    [LibraryImport(Lib)] private static partial void rl_callback_handler_install(byte* prompt, delegate* unmanaged[Cdecl]<byte*, void> handler);
    [LibraryImport(Lib)] private static partial void rl_callback_read_char();
    [LibraryImport(Lib)] private static partial void rl_callback_handler_remove();
    [LibraryImport(Lib)] private static partial void rl_callback_sigcleanup();
    [LibraryImport(Lib)] private static partial int rl_clear_visible_line();
    [LibraryImport(Lib)] private static partial int rl_forced_update_display();
    [LibraryImport(Lib)] private static partial void rl_replace_line(byte* text, int clearUndo);
    [LibraryImport(Lib)] private static partial void rl_resize_terminal();
    [LibraryImport(Lib)] private static partial int rl_redisplay();
    [LibraryImport(Lib)] private static partial byte** rl_completion_matches(byte* text, delegate* unmanaged[Cdecl]<byte*, int, byte*> generator);
    [LibraryImport(Lib)] private static partial int rl_variable_bind(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value);
    [LibraryImport(Lib)] private static partial void using_history();
    [LibraryImport(Lib)] private static partial void stifle_history(int max);
    [LibraryImport(Lib)] private static partial void add_history(byte* line);
    [LibraryImport(Lib)] private static partial int read_history(byte* file);
    [LibraryImport(Lib)] private static partial int append_history(int count, byte* file);
    [LibraryImport(Lib)] private static partial int history_truncate_file(byte* file, int lines);
}
