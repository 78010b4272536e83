namespace QomFs.Cli;

static class Program
{
    // One binary, many names: QEMU's tool names are symlinks to it, and argv[0] says which tool was meant.
    static int Main(string[] args)
    {
        LibC.OpenClosedStandardDescriptors();
        return Dispatcher.Run(Path.GetFileName(Environment.GetCommandLineArgs()[0]), args);
    }
}
