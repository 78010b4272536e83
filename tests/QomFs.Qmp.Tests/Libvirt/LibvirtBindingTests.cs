using QomFs.Qmp.Libvirt;
using QomFs.Testing;

namespace QomFs.Qmp.Tests.Libvirt;

/// <summary>
/// The binding's declarations against the installed libvirt headers: signatures.c restates each one and gcc checks it
/// with the header's own, and the binding's constants are handed to it to compare.
/// </summary>
[Category(Needs.Libvirt)]
public class LibvirtBindingTests
{
    [Test]
    public void EveryDeclarationAndConstantMatchesTheHeaders()
    {
        var gcc = Require.Tool("gcc", "checking the libvirt binding against its headers");
        Require.File("/usr/include/libvirt/libvirt-qemu.h", "libvirt-dev headers");
        (string, long)[] constants =
        [
            ("VIR_DOMAIN_EVENT_ID_LIFECYCLE", LibvirtNative.VIR_DOMAIN_EVENT_ID_LIFECYCLE),
            ("VIR_DOMAIN_EVENT_UNDEFINED", LibvirtNative.VIR_DOMAIN_EVENT_UNDEFINED),
            ("VIR_DOMAIN_EVENT_STARTED", LibvirtNative.VIR_DOMAIN_EVENT_STARTED),
            ("VIR_DOMAIN_EVENT_STOPPED", LibvirtNative.VIR_DOMAIN_EVENT_STOPPED),
            ("VIR_DOMAIN_EVENT_CRASHED", LibvirtNative.VIR_DOMAIN_EVENT_CRASHED),
            ("VIR_CONNECT_LIST_DOMAINS_ACTIVE", LibvirtNative.VIR_CONNECT_LIST_DOMAINS_ACTIVE),
            ("VIR_CONNECT_CLOSE_REASON_EOF", LibvirtNative.VIR_CONNECT_CLOSE_REASON_EOF),
            ("VIR_CONNECT_CLOSE_REASON_KEEPALIVE", LibvirtNative.VIR_CONNECT_CLOSE_REASON_KEEPALIVE),
        ];
        var probe = Path.Combine(TestContext.CurrentContext.TestDirectory, "Libvirt", "signatures.c");
        var r = ProcessRunner.Run(gcc, ["-fsyntax-only", "-Wall", "-Werror", .. constants.Select(c => $"-DCS_{c.Item1}={c.Item2}"), probe],
            TimeSpan.FromSeconds(30));
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
    }
}
