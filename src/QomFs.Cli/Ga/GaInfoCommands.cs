using System.Globalization;
using System.Text.Json;
using QomFs.Qmp;
using QomFs.Qmp.Qga;

namespace QomFs.Cli.Ga;

/// <summary>The commands that ask the agent one thing and print the answer: text for people, --json for scripts.</summary>
static class GaInfoCommands
{
    static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    public static async Task<int> Ping(GaContext context, string[] args)
    {
        context.Arity(args, 0, 1);
        TimeSpan? timeout = args.Length == 1 ? Seconds.Option(args[0], context.Timeout, "ping's TIMEOUT") : null;
        var client = await context.ConnectAsync(timeout);
        var result = await client.PingAsync(timeout);
        // Silent on success, as upstream: scripts test the exit status.
        if (context.Json) GaContext.PrintJson(result);
        return ExitCodes.Ok;
    }

    public static async Task<int> Info(GaContext context, string[] args)
    {
        context.Arity(args, 0, 0);
        var client = await context.ConnectAsync();
        if (context.Json) return Print(context, await client.ExecuteAsync("guest-info"), _ => { });
        var info = await client.GetInfoAsync();
        Console.Out.WriteLine($"version: {info.Version}");
        Console.Out.WriteLine("supported_commands:");
        // In the agent's order, as upstream prints them.
        Console.Out.WriteLine("\tenabled: " + string.Join(", ", info.Commands.Where(c => c.Enabled).Select(c => c.Name)));
        Console.Out.WriteLine("\tdisabled: " + string.Join(", ", info.Commands.Where(c => !c.Enabled).Select(c => c.Name)));
        return ExitCodes.Ok;
    }

    public static async Task<int> FsFreeze(GaContext context, string[] args)
    {
        context.Arity(args, 1, 1);
        var (command, timeout, done) = args[0] switch
        {
            "status" => ("guest-fsfreeze-status", context.Timeout, ""),
            "freeze" => ("guest-fsfreeze-freeze", Max(context.Timeout, Long), "frozen"),
            "thaw" => ("guest-fsfreeze-thaw", context.Timeout, "thawed"),
            _ => throw context.Wrong($"'{args[0]}' is not status, freeze or thaw"),
        };
        // The sync too, as upstream: an agent busy with an earlier freeze answers it late.
        var client = await context.ConnectAsync(timeout);
        return Print(context, await client.ExecuteAsync(command, timeout: timeout), r =>
            Console.Out.WriteLine(done == "" ? Text(r) : $"{Text(r)} filesystems {done}"));
    }

    public static async Task<int> FsTrim(GaContext context, string[] args)
    {
        context.Arity(args, 0, 1);
        long minimum = 0;
        if (args.Length == 1 && !long.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out minimum))
            throw context.Wrong($"'{args[0]}' is not a number of bytes");
        var client = await context.ConnectAsync();
        var result = await client.ExecuteAsync("guest-fstrim", args.Length == 1 ? w => w.WriteNumber("minimum"u8, minimum) : null,
            timeout: Max(context.Timeout, Long));
        return Print(context, result, r =>
        {
            foreach (var p in Items(r, "paths"))
                Console.Out.WriteLine(Str(p, "error") is string error
                    ? $"{Str(p, "path")}: {error}"
                    : $"{Str(p, "path")}: {Text(Get(p, "trimmed"))} bytes trimmed");
        });
    }

    public static async Task<int> Ifconfig(GaContext context, string[] args) =>
        await Simple(context, args, "guest-network-get-interfaces", r =>
        {
            foreach (var nic in Items(r))
            {
                Console.Out.WriteLine($"{Str(nic, "name")}:");
                foreach (var ip in Items(nic, "ip-addresses"))
                {
                    var prefix = Get(ip, "prefix") is { ValueKind: JsonValueKind.Number } p && p.TryGetInt32(out var n) ? n : -1;
                    if (Str(ip, "ip-address-type") == "ipv4")
                        Console.Out.WriteLine($"\tinet {Str(ip, "ip-address")}  netmask {Netmask(prefix)}");
                    else
                        Console.Out.WriteLine($"\tinet6 {Str(ip, "ip-address")}  prefixlen {prefix}");
                }
                // Upstream raises KeyError here when the interface has no hardware address, and hides loopback's zeros.
                if (Str(nic, "hardware-address") is string mac && mac != "00:00:00:00:00:00") Console.Out.WriteLine($"\tether {mac}");
            }
        });

    public static Task<int> Hostname(GaContext context, string[] args) =>
        Simple(context, args, "guest-get-host-name", r => Console.Out.WriteLine(Str(r, "host-name")));

    public static Task<int> OsInfo(GaContext context, string[] args) =>
        Simple(context, args, "guest-get-osinfo", r =>
        {
            if (r.ValueKind != JsonValueKind.Object) return;
            foreach (var p in r.EnumerateObject()) Console.Out.WriteLine($"{p.Name}: {Text(p.Value)}");
        });

    public static Task<int> Users(GaContext context, string[] args) =>
        Simple(context, args, "guest-get-users", r =>
        {
            foreach (var u in Items(r))
            {
                var who = Str(u, "domain") is string domain ? $"{domain}\\{Str(u, "user")}" : Str(u, "user");
                var since = Get(u, "login-time") is { ValueKind: JsonValueKind.Number } t && t.TryGetDouble(out var s) && s is >= 0 and < 253402300799
                    ? DateTimeOffset.FromUnixTimeMilliseconds((long)(s * 1000)).ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)
                    : "?";
                Console.Out.WriteLine($"{who}\tsince {since}");
            }
        });

    public static Task<int> FsInfo(GaContext context, string[] args) =>
        Simple(context, args, "guest-get-fsinfo", r =>
        {
            foreach (var fs in Items(r))
            {
                var usage = Get(fs, "total-bytes").ValueKind == JsonValueKind.Number
                    ? $"  {Text(Get(fs, "used-bytes"))}/{Text(Get(fs, "total-bytes"))} bytes used" : "";
                var disks = string.Join(",", Items(fs, "disk").Select(d => Str(d, "dev") ?? Str(d, "bus-type") ?? "?"));
                Console.Out.WriteLine($"{Str(fs, "mountpoint")}\t{Str(fs, "type")}\t{Str(fs, "name")}{usage}{(disks == "" ? "" : "  disks " + disks)}");
            }
        });

    public static Task<int> Time(GaContext context, string[] args) =>
        Simple(context, args, "guest-get-time", r =>
        {
            if (r.ValueKind != JsonValueKind.Number || !r.TryGetInt64(out var ns) || ns < 0 || ns / 100 > DateTimeOffset.MaxValue.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks)
                throw QgaJson.Malformed("guest-get-time", $"'{Text(r)}' is not a time in nanoseconds");
            Console.Out.WriteLine(DateTimeOffset.UnixEpoch.AddTicks(ns / 100).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
        });

    public static Task<int> Timezone(GaContext context, string[] args) =>
        Simple(context, args, "guest-get-timezone", r =>
        {
            var offset = Get(r, "offset") is { ValueKind: JsonValueKind.Number } o && o.TryGetInt32(out var s) ? s : 0;
            var sign = offset < 0 ? '-' : '+';
            var abs = TimeSpan.FromSeconds(Math.Abs((long)offset));
            Console.Out.WriteLine($"{Str(r, "zone") ?? "?"} (UTC{sign}{(int)abs.TotalHours:00}:{abs.Minutes:00})");
        });

    static async Task<int> Simple(GaContext context, string[] args, string command, Action<JsonElement> print)
    {
        context.Arity(args, 0, 0);
        var client = await context.ConnectAsync();
        return Print(context, await client.ExecuteAsync(command), print);
    }

    static int Print(GaContext context, QmpResult result, Action<JsonElement> print)
    {
        if (context.Json) GaContext.PrintJson(result);
        else print(QgaJson.Element(result, "the command"));
        return ExitCodes.Ok;
    }

    // Tolerant accessors: a field the agent left out or typed oddly prints as nothing rather than crashing.
    static JsonElement Get(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : default;

    static string? Str(JsonElement e, string name) => Get(e, name) is { ValueKind: JsonValueKind.String } s ? s.GetString() : null;

    static IEnumerable<JsonElement> Items(JsonElement e, string? name = null)
    {
        var list = name is null ? e : Get(e, name);
        return list.ValueKind == JsonValueKind.Array ? list.EnumerateArray() : [];
    }

    static string Text(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Undefined => "",
        _ => e.GetRawText(),
    };

    static string Netmask(int prefix)
    {
        if (prefix is < 0 or > 32) return "?";
        var mask = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
        return $"{mask >> 24}.{(mask >> 16) & 255}.{(mask >> 8) & 255}.{mask & 255}";
    }

    static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
