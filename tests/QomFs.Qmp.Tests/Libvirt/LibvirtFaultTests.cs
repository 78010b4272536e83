using QomFs.Testing;

namespace QomFs.Qmp.Tests.Libvirt;

/// <summary>The libvirt transport when its domain stops or libvirtd restarts: the session ends at once, with the reason.</summary>
[Category(Needs.Libvirt), Category(Needs.Qemu)]
public class LibvirtFaultTests
{
    static readonly TimeSpan Soon = TimeSpan.FromSeconds(5);

    [Test]
    public async Task ADomainThatStopsEndsTheSessionAtOnce()
    {
        using var domain = LibvirtDomain.Start("stops");
        await using var c = await QmpClient.ConnectAsync(QmpAddress.Parse(domain.Address));
        await c.ExecuteAsync("query-status");
        domain.Destroy();
        var reason = await c.Disconnected.WaitAsync(Soon);
        Assert.That(reason, Is.TypeOf<QmpConnectionException>());
        Assert.That(reason.Message, Does.StartWith($"connection to {domain.Address} lost: "));
        var e = Assert.ThrowsAsync<QmpConnectionException>(() => c.ExecuteAsync("query-status").WaitAsync(Soon));
        Assert.That(e, Is.Not.Null);
    }

    [Test]
    public async Task ALibvirtdRestartEndsTheSessionAndTheDomainIsReachableAgain()
    {
        using var domain = LibvirtDomain.Start("restart");
        await using var c = await QmpClient.ConnectAsync(QmpAddress.Parse(domain.Address));
        await c.ExecuteAsync("query-status");
        LibvirtDaemon.Restart();
        var reason = await c.Disconnected.WaitAsync(Soon);
        Assert.That(reason.Message, Is.EqualTo($"connection to {domain.Address} lost: libvirtd closed the connection"));
        // libvirtd takes its running domains back when it starts: a new session reaches the same QEMU.
        await using var again = await QmpClient.ConnectAsync(QmpAddress.Parse(domain.Address));
        var status = (await again.ExecuteAsync("query-status")).ToElement();
        Assert.That(status.GetProperty("status").GetString(), Is.EqualTo("prelaunch"), "started paused, never run");
    }
}
