using QomFs.Qmp.Qga;

namespace QomFs.Cli.Ga;

/// <summary>cat, get and put: chunked, byte-exact copies through guest-file-*.</summary>
static class GaFileCommands
{
    public static async Task<int> Cat(GaContext context, string[] args)
    {
        context.Arity(args, 1, 1);
        var client = await context.ConnectAsync();
        // Stops at EPIPE (cat /dev/zero | head): the copy ends, and the guest file is closed.
        await using var stdout = new Stdout();
        await client.CopyFromGuestAsync(args[0], stdout);
        await stdout.FlushAsync();
        return ExitCodes.Ok;
    }

    public static async Task<int> Get(GaContext context, string[] args)
    {
        context.Arity(args, 2, 2);
        var local = Path.GetFullPath(args[1]);
        if (Directory.Exists(local)) local = Path.Combine(local, Path.GetFileName(args[0].TrimEnd('/')));
        var client = await context.ConnectAsync();
        // Into a temporary file beside the target, renamed at the end: a failed or interrupted copy leaves no half
        // file behind.
        var partial = $"{local}.part-{Environment.ProcessId}";
        long copied;
        using var interruption = new Interruption();
        try
        {
            await using (var file = LocalFile.CreateNew(partial, local))
                copied = await client.CopyFromGuestAsync(args[0], file, cancel: interruption.Token);
            File.Move(partial, local, overwrite: true);
        }
        catch (Exception e)
        {
            if (e is not LocalFileException) File.Delete(partial);
            if (e is OperationCanceledException && interruption.Token.IsCancellationRequested) return Interrupted(context, interruption);
            throw;
        }
        Report(context, copied, args[0], local);
        return ExitCodes.Ok;
    }

    public static async Task<int> Put(GaContext context, string[] args)
    {
        context.Arity(args, 2, 2);
        await using var file = LocalFile.Read(args[0]);
        var client = await context.ConnectAsync();
        var copied = await client.CopyToGuestAsync(file, args[1]);
        Report(context, copied, args[0], args[1]);
        return ExitCodes.Ok;
    }

    static int Interrupted(GaContext context, Interruption interruption)
    {
        Console.Error.WriteLine($"{context.Prog}: interrupted");
        return interruption.ExitCode;
    }

    static void Report(GaContext context, long bytes, string from, string to)
    {
        if (context.Json) Console.Out.WriteLine($$"""{"bytes": {{bytes}}}""");
        else Console.Out.WriteLine($"{from} -> {to}: {bytes} bytes");
    }
}
