using QomFs.Cli.Mount;
using QomFs.Qmp;

namespace QomFs.Cli.Tests.Mount;

// In-process: what an fstab line's options become; the real mount(8) runs them in Integration/MountHelperTests.
public class FstabOptionsTests
{
    [Test]
    public void FstabOnlyOptionsNeverReachLibfuseAndTheOthersDo()
    {
        var (options, _) = MountOptionsParser.Parse(QmpAddress.Parse("/tmp/q.sock"), "/mnt",
            ["ro,defaults,nofail,_netdev,auto,noauto,user,nouser,users,owner,group,comment=x,x-systemd.automount,x-systemd.device-timeout=5,noatime,dev,suid"]);
        Assert.That(options.ReadOnly, Is.True);
        Assert.That(options.ExtraOptions, Is.EqualTo(new[] { "noatime", "dev", "suid" }));
    }
}
