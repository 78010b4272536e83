using QomFs.Testing;

namespace QomFs.Tests.Libvirt;

/// <summary>qomfs mount on one libvirt domain: the same tree as over a socket, and the domain stopping ends it.</summary>
[Category(Needs.Libvirt), Category(Needs.Qemu), Category(Needs.Fuse), Category(Needs.Binary)]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class LibvirtMountTests(QemuPeer peer)
{
    [Test]
    public void ReadsWritesAndListsThroughLibvirt()
    {
        using var domain = LibvirtDomain.Start("mount", peer);
        using var m = ForegroundMount.Start("-s", domain.Address);
        Assert.That(File.ReadAllText(m.P("machine/type")), Is.EqualTo(peer.Q35MachineType + "\n"));
        Assert.That(Directory.GetFileSystemEntries(m.P("machine")).Select(Path.GetFileName), Does.Contain("peripheral-anon"));
        File.WriteAllText(m.P("machine/kernel"), "/tmp/written-through-libvirt");
        Assert.That(domain.MonitorCommand("""{"execute":"qom-get","arguments":{"path":"/machine","property":"kernel"}}"""),
            Does.Contain("\"return\":\"/tmp/written-through-libvirt\""));
    }

    [Test]
    public void TheDomainStoppingFailsOperationsAndEndsTheMount()
    {
        using var domain = LibvirtDomain.Start("mountstop", peer);
        using var m = ForegroundMount.Start("-s", domain.Address, "-o", "cache_ttl=0");
        Assert.That(File.ReadAllText(m.P("machine/type")), Is.EqualTo(peer.Q35MachineType + "\n"));
        domain.Destroy();
        Assert.That(m.WaitForDaemonExit(TimeSpan.FromSeconds(10)), Is.EqualTo(1), "QEMU went away");
        Assert.That(Mounts.IsMounted(m.Mount), Is.False);
        Assert.That(m.Log, Does.Contain($"connection to {domain.Address} lost: "));
    }

    [Test]
    public void WithReconnectTheMountWaitsForTheDomainToRunAgain()
    {
        using var domain = LibvirtDomain.Start("mountback", peer);
        using var m = ForegroundMount.Start("-s", domain.Address, "-o", "cache_ttl=0,reconnect");
        Assert.That(File.ReadAllText(m.P("machine/type")), Is.EqualTo(peer.Q35MachineType + "\n"));
        domain.Destroy();
        Wait.Until(() => Posix.Read(m.P("machine/type")).Errno == Posix.ENOTCONN, TimeSpan.FromSeconds(10), "ENOTCONN while the domain is away");
        Assert.That(m.HasExited, Is.False, "the mount stays");
        domain.Create();
        Wait.Until(() => Posix.Read(m.P("machine/type")).Errno == 0, TimeSpan.FromSeconds(15), "the mount to reach the new QEMU");
        Assert.That(m.Log, Does.Contain($"reconnected to {domain.Address}"));
    }
}
