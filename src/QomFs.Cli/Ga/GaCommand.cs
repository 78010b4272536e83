namespace QomFs.Cli.Ga;

/// <summary>qemu-ga-client: placeholder until it lands.</summary>
static class GaCommand
{
    public static int Run(string prog, string[] args)
    {
        Console.Error.WriteLine($"{prog}: not implemented yet");
        return ExitCodes.Usage;
    }
}
