namespace QomFs.Cli;

static class QomListCommand
{
    public static int Run(string prog, string[] args)
    {
        Console.Error.WriteLine($"{prog}: not implemented yet");
        return ExitCodes.Usage;
    }
}
