using QomFs.Testing;

namespace QomFs.Tests.Unit;

/// <summary>The guard that keeps the fast tier honest: a test that starts a peer must say so.</summary>
public class NeedsTests
{
    [Test]
    public void AnUntaggedTestThatNeedsAPeerFails() =>
        Assert.That(() => Needs.Check(Needs.Qemu), Throws.InstanceOf<AssertionException>().With.Message.Contains("Needs.Qemu"));

    [Test, Category(Needs.Agent)]
    public void ATestTaggedWithThePeerPasses() => Assert.That(() => Needs.Check(Needs.Agent), Throws.Nothing);

    [Test, Category(Needs.Agent)]
    public void AnotherPeersTagDoesNotCount() =>
        Assert.That(() => Needs.Check(Needs.Fuse), Throws.InstanceOf<AssertionException>());
}
