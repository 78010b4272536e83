using System.Text;
using System.Text.Json;

namespace QomFs.Cli.Shell;

/// <summary>
/// -l FILE: every command sent, every reply (or error) and every event, one compact JSON object a line, flushed
/// as it is written. The file is truncated at start, as upstream.
/// </summary>
sealed class ShellLog(string path) : IDisposable
{
    readonly Lock _gate = new();
    readonly FileStream _file = LocalFile.Create(path, "log file");

    public void Write(JsonElement message)
    {
        var line = Encoding.UTF8.GetBytes(ShellOutput.Format(message, pretty: false) + "\n");
        lock (_gate)
        {
            _file.Write(line);
            _file.Flush();
        }
    }

    public void Dispose()
    {
        lock (_gate) _file.Dispose();
    }
}
