using QomFs.Testing;

namespace QomFs.Cli.Tests.Libvirt;

/// <summary>Stops the libvirtd these tests started, if they started one, once they are done.</summary>
[SetUpFixture]
public class LibvirtSetup
{
    [OneTimeTearDown] public void StopDaemon() => LibvirtDaemon.StopIfStarted();
}
