using System.Text.Json;

namespace QomFs.Qmp.Qga;

/// <summary>
/// Copies files out of and into the guest with guest-file-open/read/write/close, in chunks, byte-exact, for any size.
/// The guest handle is always closed, even when the copy fails.
/// </summary>
public static class QgaFiles
{
    /// <summary>The default chunk: 1 MiB of data, about 1.4 MB of base64 on the wire.</summary>
    public const int DefaultChunkBytes = 1024 * 1024;

    /// <summary>Copies the guest file to <paramref name="destination"/>; returns the number of bytes copied.</summary>
    public static async Task<long> CopyFromGuestAsync(this QgaClient client, string guestPath, Stream destination,
        int chunkBytes = DefaultChunkBytes, CancellationToken cancel = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 1);
        var handle = await OpenAsync(client, guestPath, "r", cancel);
        long total = 0;
        try
        {
            while (true)
            {
                var result = await client.ExecuteAsync("guest-file-read", w =>
                {
                    w.WriteNumber("handle"u8, handle);
                    w.WriteNumber("count"u8, chunkBytes);
                }, cancel: cancel);
                var reply = QgaJson.Element(result, "guest-file-read");
                var data = QgaJson.Base64(reply, "buf-b64", "guest-file-read", chunkBytes);
                var count = QgaJson.Long(reply, "count", "guest-file-read");
                if (count is long c && c != data.Length)
                    throw QgaJson.Malformed("guest-file-read", $"'count' is {c} but 'buf-b64' holds {data.Length} bytes");
                await destination.WriteAsync(data, cancel);
                total += data.Length;
                // A real agent says eof; a read of nothing without it would otherwise loop for ever.
                if (QgaJson.Bool(reply, "eof") == true || data.Length == 0) return total;
            }
        }
        finally { await CloseQuietlyAsync(client, handle); }
    }

    /// <summary>Copies <paramref name="source"/> to the guest file, replacing it; returns the number of bytes copied.</summary>
    public static async Task<long> CopyToGuestAsync(this QgaClient client, Stream source, string guestPath,
        int chunkBytes = DefaultChunkBytes, CancellationToken cancel = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 1);
        var handle = await OpenAsync(client, guestPath, "w", cancel);
        var buffer = new byte[chunkBytes];
        long total = 0;
        try
        {
            int n;
            while ((n = await source.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancel)) > 0)
            {
                var offset = 0;
                while (offset < n)
                {
                    var chunk = Convert.ToBase64String(buffer, offset, n - offset);
                    var result = await client.ExecuteAsync("guest-file-write", w =>
                    {
                        w.WriteNumber("handle"u8, handle);
                        w.WriteString("buf-b64"u8, chunk);
                    }, cancel: cancel);
                    var written = QgaJson.Long(QgaJson.Element(result, "guest-file-write"), "count", "guest-file-write");
                    if (written is not long w0 || w0 < 1 || w0 > n - offset)
                        throw QgaJson.Malformed("guest-file-write", $"it wrote {written?.ToString() ?? "no"} bytes of {n - offset}");
                    offset += (int)w0;
                }
                total += n;
            }
            await client.ExecuteAsync("guest-file-flush", w => w.WriteNumber("handle"u8, handle), cancel: cancel);
            return total;
        }
        finally { await CloseQuietlyAsync(client, handle); }
    }

    static async Task<long> OpenAsync(QgaClient client, string path, string mode, CancellationToken cancel)
    {
        var result = await client.ExecuteAsync("guest-file-open", w =>
        {
            w.WriteString("path"u8, path);
            w.WriteString("mode"u8, mode);
        }, cancel: cancel);
        var root = QgaJson.Element(result, "guest-file-open");
        return root.ValueKind == JsonValueKind.Number && root.TryGetInt64(out var handle)
            ? handle
            : throw QgaJson.Malformed("guest-file-open", "the handle is not an integer");
    }

    // Closing is owed to the agent even after a failure; a failure to close must not hide the first error.
    static async Task CloseQuietlyAsync(QgaClient client, long handle)
    {
        if (!client.IsConnected) return;
        try { await client.ExecuteAsync("guest-file-close", w => w.WriteNumber("handle"u8, handle)); }
        catch (QmpException) { }
    }
}
