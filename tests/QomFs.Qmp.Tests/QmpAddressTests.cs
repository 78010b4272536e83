namespace QomFs.Qmp.Tests;

public class QmpAddressTests
{
    [TestCase("/tmp/qmp.sock", QmpAddressKind.Unix, "/tmp/qmp.sock")]
    [TestCase("localhost:4444", QmpAddressKind.Tcp, "localhost:4444")]
    [TestCase("[::1]:4444", QmpAddressKind.Tcp, "[::1]:4444")]
    [TestCase("vsock:3:1234", QmpAddressKind.Vsock, "vsock:3:1234")]
    [TestCase("relative.sock", QmpAddressKind.Unix, "relative.sock")]
    [TestCase("/a:b/c:d", QmpAddressKind.Unix, "/a:b/c:d")]
    [TestCase("libvirt:web1", QmpAddressKind.Libvirt, "libvirt:web1")]
    [TestCase("libvirt:qemu:///system#web1", QmpAddressKind.Libvirt, "libvirt:qemu:///system#web1")]
    public void Parses(string text, QmpAddressKind kind, string shown)
    {
        var a = QmpAddress.Parse(text);
        Assert.That(a.Kind, Is.EqualTo(kind));
        Assert.That(a.ToString(), Is.EqualTo(shown));
    }

    [Test]
    public void AnExistingFileWithAColonIsAUnixPath()
    {
        var dir = QomFs.Testing.TempPaths.NewDirectory("addr");
        var path = Path.Combine(dir, "host:1234");
        File.WriteAllText(path, "");
        Assert.That(QmpAddress.Parse(path).Kind, Is.EqualTo(QmpAddressKind.Unix));
        Assert.That(QmpAddress.Parse("host:1234").Kind, Is.EqualTo(QmpAddressKind.Tcp));
    }

    [TestCase("libvirt:", "names no domain")]
    [TestCase("libvirt:qemu:///system", "names no domain")]
    [TestCase("libvirt:qemu:///system#", "names no domain")]
    [TestCase("libvirt:system#web1", "not a libvirt URI")]
    [TestCase("", "empty")]
    [TestCase("host:99999", "port")]
    [TestCase("host:http", "port")]
    [TestCase("[zz]:1", "IPv6")]
    [TestCase("vsock:x:1", "vsock")]
    public void RejectsWithAReason(string text, string reason) =>
        Assert.That(() => QmpAddress.Parse(text), Throws.TypeOf<FormatException>().With.Message.Contains(reason));

    [Test]
    public void ALibvirtAddressSplitsAtTheFirstHash()
    {
        var a = QmpAddress.Parse("libvirt:qemu+unix:///system?socket=/run/x#web#1");
        Assert.That((a.LibvirtUri, a.Domain), Is.EqualTo(("qemu+unix:///system?socket=/run/x", "web#1")));
        Assert.That(QmpAddress.Parse("libvirt:web1").LibvirtUri, Is.Empty);
    }
}
