using QomFs.Qmp;

namespace QomFs.Cli;

/// <summary>Where a command finds its peer, as QEMU's tools do: the address given, else an environment variable.</summary>
static class PeerAddress
{
    /// <summary>The qom-* commands' and the mount's -s/--socket, else $QMP_SOCKET.</summary>
    public static QmpAddress QmpSocket(string? given) => From(given, "QMP_SOCKET", "--socket", "QMP socket");

    /// <summary>
    /// A QMP address as a client tool reaches it: through the proxy of this user's mount that holds it, if one
    /// does (QEMU's socket serves one client at a time); otherwise as it is.
    /// </summary>
    public static QmpAddress ThroughMount(QmpAddress address) => MountRegistry.Through(address);

    /// <param name="given">the option's or the argument's value; null when absent.</param>
    /// <param name="variable">the environment variable to fall back on.</param>
    /// <param name="how">how the user gives it ("--socket", "ADDRESS"), for the message.</param>
    /// <param name="what">what it is the address of ("QMP socket"), for the message.</param>
    /// <exception cref="UsageException">neither gives an address.</exception>
    public static QmpAddress From(string? given, string variable, string how, string what)
    {
        var text = given ?? Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(text)) throw new UsageException($"no {what}: give {how} or set ${variable}");
        return QmpAddress.Parse(text);
    }
}
