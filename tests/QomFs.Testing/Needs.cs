using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;

namespace QomFs.Testing;

/// <summary>
/// The NUnit categories of the tests that `make test-fast` (run-tests.sh --fast) leaves out: those that need a real peer,
/// and one long soak. `make test` runs everything. The starters of each peer call <see cref="Check"/>, so an untagged test that starts
/// one fails in `make test` instead of slowing the fast tier down unnoticed.
/// </summary>
public static class Needs
{
    /// <summary>A real qemu-system-x86_64.</summary>
    public const string Qemu = "Qemu";

    /// <summary>A real qemu-ga.</summary>
    public const string Agent = "Agent";

    /// <summary>A real FUSE mount (root and /dev/fuse).</summary>
    public const string Fuse = "Fuse";

    /// <summary>A real libvirtd with its QEMU driver (<see cref="LibvirtDaemon"/>), and the domains it runs.</summary>
    public const string Libvirt = "Libvirt";

    /// <summary>The published bin/qomfs, run as a process.</summary>
    public const string Binary = "Binary";

    /// <summary>Not a peer but time: a long soak run (the fuzz test's 10,000 messages), left out of the fast tier too.</summary>
    public const string Soak = "Soak";

    /// <summary>Fails the running test unless it, or its fixture, carries <paramref name="category"/>. Outside NUnit (the bench) it does nothing.</summary>
    public static void Check(string category)
    {
        var context = TestExecutionContext.CurrentContext;
        if (context is TestExecutionContext.AdhocContext) return;
        for (ITest? test = context.CurrentTest; test is not null; test = test.Parent)
            if (test.Properties[PropertyNames.Category].Contains(category)) return;
        Assert.Fail($"this test starts a real peer but is not tagged [Category(Needs.{category})]");
    }
}
