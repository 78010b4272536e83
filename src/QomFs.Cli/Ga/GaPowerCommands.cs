using QomFs.Qmp.Qga;

namespace QomFs.Cli.Ga;

/// <summary>reboot, shutdown, powerdown, halt and suspend: the commands that send no reply when they succeed.</summary>
static class GaPowerCommands
{
    public static async Task<int> Shutdown(GaContext context, string[] args, string? mode)
    {
        context.Arity(args, 0, 0);
        var client = await context.ConnectAsync();
        await client.ExecuteNoReplyAsync("guest-shutdown", mode is null ? null : w => w.WriteString("mode"u8, mode));
        return ExitCodes.Ok;
    }

    public static async Task<int> Suspend(GaContext context, string[] args)
    {
        context.Arity(args, 1, 1);
        if (args[0] is not ("disk" or "ram" or "hybrid")) throw context.Wrong($"'{args[0]}' is not disk, ram or hybrid");
        var client = await context.ConnectAsync();
        await client.ExecuteNoReplyAsync($"guest-suspend-{args[0]}");
        return ExitCodes.Ok;
    }
}
