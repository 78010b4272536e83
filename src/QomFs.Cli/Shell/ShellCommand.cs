namespace QomFs.Cli.Shell;

/// <summary>qmp-shell: placeholder until the shell lands.</summary>
static class ShellCommand
{
    public static int Run(string prog, string[] args)
    {
        Console.Error.WriteLine($"{prog}: not implemented yet");
        return ExitCodes.Usage;
    }
}
