using System.Text;
using QomFs.Testing;

namespace QomFs.Cli.Tests.Libvirt;

/// <summary>The published binary's qom-* commands and qmp-shell on a libvirt domain (a real libvirtd and QEMU 7.2).</summary>
[Category(Needs.Libvirt), Category(Needs.Qemu), Category(Needs.Binary)]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class LibvirtCommandTests(QemuPeer peer)
{
    LibvirtDomain _domain = null!;

    [OneTimeSetUp] public void Start() => _domain = LibvirtDomain.Start("cli", peer);
    [OneTimeTearDown] public void Stop() => _domain?.Dispose();

    [Test]
    public void QomGetTakesALibvirtAddress()
    {
        var r = Qomfs.Run("qom-get", ["-s", _domain.Address, "/machine.type"]);
        Assert.That((r.ExitCode, r.StdOut, r.StdErr), Is.EqualTo((0, peer.Q35MachineType + "\n", "")));
    }

    [Test]
    public void QmpSocketMayBeALibvirtAddressOnTheDefaultUri()
    {
        var r = Qomfs.Run("qom-list", ["/machine/peripheral-anon"],
            env: new Dictionary<string, string?> { ["QMP_SOCKET"] = $"libvirt:{_domain.Name}", ["LIBVIRT_DEFAULT_URI"] = LibvirtDaemon.Uri });
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((0, "")));
        Assert.That(r.StdOut.Split('\n'), Does.Contain("type"));
    }

    [Test]
    public void QomSetThroughLibvirtIsSeenByVirsh()
    {
        var r = Qomfs.Run("qom-set", ["-s", _domain.Address, "/machine.kernel", "/tmp/set-through-libvirt"]);
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((0, "")));
        Assert.That(_domain.MonitorCommand("""{"execute":"qom-get","arguments":{"path":"/machine","property":"kernel"}}"""),
            Does.Contain("\"return\":\"/tmp/set-through-libvirt\""));
    }

    [Test]
    public void AMissingDomainIsOneLineAndExitThree()
    {
        var r = Qomfs.Run("qom-get", ["-s", $"libvirt:{LibvirtDaemon.Uri}#no-such-vm", "/machine.type"]);
        Assert.That((r.ExitCode, r.StdOut), Is.EqualTo((3, "")));
        Assert.That(r.StdErr, Is.EqualTo(
            $"qom-get: cannot connect to libvirt:{LibvirtDaemon.Uri}#no-such-vm: Domain not found: no domain with matching name 'no-such-vm'\n"));
    }

    [Test]
    public void AUserLibvirtdDoesNotLetInIsToldSoInOneLine()
    {
        var setpriv = Require.Tool("setpriv", "runs qom-get as another user");
        var r = ProcessRunner.Run(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", Qomfs.Named("qom-get"),
            "-s", _domain.Address, "/machine.type"]);
        Assert.That((r.ExitCode, r.StdOut), Is.EqualTo((3, "")));
        Assert.That(r.StdErr, Does.StartWith($"qom-get: cannot connect to {_domain.Address}: "));
        Assert.That(r.StdErr, Does.EndWith("(no permission: run as root, or as a user libvirtd lets in)\n"));
    }

    [Test]
    public void AnAddressWithoutADomainIsAUsageError()
    {
        var r = Qomfs.Run("qom-get", ["-s", $"libvirt:{LibvirtDaemon.Uri}", "/machine.type"]);
        Assert.That(r.ExitCode, Is.EqualTo(2));
        Assert.That(r.StdErr, Does.Contain("names no domain (libvirt:DOMAIN or libvirt:URI#DOMAIN)"));
        Assert.That(r.StdErr.TrimEnd('\n'), Does.Not.Contain("\n"), "one line");
    }

    [Test]
    public void QmpShellRunsCommandsOnALibvirtDomain()
    {
        var r = Qomfs.Run("qmp-shell", [_domain.Address], TimeSpan.FromSeconds(20),
            Encoding.UTF8.GetBytes("qom-get path=/machine property=type\nquery-name\n"));
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((0, "")));
        // libvirt names QEMU after the domain (-name guest=NAME): the reply comes from this domain's QEMU.
        Assert.That(r.StdOut, Is.EqualTo($"{{\"return\":\"{peer.Q35MachineType}\"}}\n{{\"return\":{{\"name\":\"{_domain.Name}\"}}}}\n"));
    }
}
