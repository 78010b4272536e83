using QomFs.Cli;

namespace QomFs.Cli.Tests;

public class UsageTextTests
{
    const string Usage = """
        usage: qom-get [-s SOCKET] [-v|--verbose]
                       [--timeout S] PATH.PROPERTY
               qom-get [-s SOCKET] PATH PROPERTY

        qom-get prints a value.
        """;

    [Test]
    public void TheUsageLinesNameTheCommandAsItWasRunAndKeepTheirAlignment() =>
        Assert.That(UsageText.Named(Usage, "qomfs get"), Is.EqualTo("""
            usage: qomfs get [-s SOCKET] [-v|--verbose]
                             [--timeout S] PATH.PROPERTY
                   qomfs get [-s SOCKET] PATH PROPERTY

            qom-get prints a value.
            """));

    [TestCase("qom-get")]
    [TestCase("qom-get exec")]
    public void TheNameItselfOrACommandUnderItChangesNothing(string prog) =>
        Assert.That(UsageText.Named(Usage, prog), Is.SameAs(Usage));

    [Test]
    public void AManyWordNameIsReplacedWhole() =>
        Assert.That(UsageText.Named("usage: qomfs mount [-s SOCKET] MOUNTPOINT\n       qomfs mount --dir DIR MOUNTPOINT\n", "qom-fuse"),
            Is.EqualTo("usage: qom-fuse [-s SOCKET] MOUNTPOINT\n       qom-fuse --dir DIR MOUNTPOINT\n"));
}
