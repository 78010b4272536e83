namespace QomFs.Cli;

/// <summary>The command line is wrong: one line on stderr and exit 2.</summary>
sealed class UsageException(string message) : Exception(message);
