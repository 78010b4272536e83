namespace QomFs.Qom.Tests;

public class QomPathTests
{
    [TestCase("/", "machine", "/machine")]
    [TestCase("/machine", "unattached", "/machine/unattached")]
    public void Combines(string parent, string name, string path) => Assert.That(QomPath.Combine(parent, name), Is.EqualTo(path));

    [TestCase("/machine/unattached/device[0]", "/machine/unattached", "device[0]")]
    [TestCase("/machine", "/", "machine")]
    public void Splits(string path, string parent, string name)
    {
        Assert.That(QomPath.Parent(path), Is.EqualTo(parent));
        Assert.That(QomPath.Name(path), Is.EqualTo(name));
    }

    [TestCase("/machine", "/machine/unattached/device[8]", "../machine/unattached/device[8]")]
    [TestCase("/machine/q35/pcie.0", "/objects/pc.ram", "../../../objects/pc.ram")]
    [TestCase("/", "/machine", "machine")]
    public void RelativeLinkTargets(string dir, string target, string relative) =>
        Assert.That(QomPath.RelativeTarget(dir, target), Is.EqualTo(relative));

    [TestCase("child<pc-q35-7.2-machine>", QomPropertyKind.Child)]
    [TestCase("link<irq>", QomPropertyKind.Link)]
    [TestCase("bool", QomPropertyKind.Value)]
    [TestCase("child<", QomPropertyKind.Value)]
    public void Kinds(string type, QomPropertyKind kind) => Assert.That(QomProperty.KindOf(type), Is.EqualTo(kind));

    [TestCase("/", "/")]
    [TestCase("//machine", "/machine")]
    [TestCase("/machine//peripheral/", "/machine/peripheral")]
    [TestCase("/machine/unattached/device[0]", "/machine/unattached/device[0]")]
    public void CanonicalDropsEmptyComponentsAsQemuDoes(string path, string canonical) =>
        Assert.That(QomPath.Canonical(path), Is.EqualTo(canonical));
}
