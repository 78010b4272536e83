using QomFs.Qom;
using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>Files nobody has read yet (a mount of each real QEMU, each case a file of its own): sysfs-like sizes.</summary>
[Category(Needs.Qemu), Category(Needs.Fuse), Category(Needs.Binary)]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class UnreadFileTests(QemuPeer peer)
{
    // Stands for the peer's machine type in a case's expected output.
    const string MachineType = "<q35 machine type>";

    MountedQemu _m = null!;

    [OneTimeSetUp] public void Start() => _m = MountedQemu.Start(peer);
    [OneTimeTearDown] public void Stop() => _m.Dispose();

    async Task<string> Text(string path, string property) =>
        ValueCodec.FormatText((await _m.Check.ExecuteAsync("qom-get", w => { w.WriteString("path", path); w.WriteString("property", property); })).Json.Span);

    [Test]
    public async Task AnUnreadFileShowsOnePageAndAReadOneItsLengthForGood()
    {
        var file = _m.P("/machine/unattached/device[0]/feature-words");
        var size = new FileInfo(file).Length;
        var text = File.ReadAllText(file);
        Assert.That(text, Is.EqualTo(await Text("/machine/unattached/device[0]", "feature-words")));
        // Where the listing brought the value (qom-list-get), its size is known before any read.
        if (peer.HasQomListGet) Assert.That(size, Is.EqualTo(text.Length), "listed with its value");
        else Assert.That(size, Is.EqualTo(QomFileSystem.UnreadSize), "unread, like sysfs");
        Assert.That(new FileInfo(file).Length, Is.EqualTo(text.Length));
        // Out of the cache (TTL 1 s) the file's time moves off the mount's (see EntryStat.Fill), but its size
        // stays the last value's: a page the kernel could not drop must never read on past the value.
        var mounted = File.GetLastWriteTimeUtc(Path.GetDirectoryName(file)!);
        Wait.Until(() => File.GetLastWriteTimeUtc(file) != mounted, TimeSpan.FromSeconds(10), "the value to leave the cache");
        Assert.That(new FileInfo(file).Length, Is.EqualTo(text.Length));
    }

    [TestCase("wc -c < machine/unattached/device[0]/filtered-features", "/machine/unattached/device[0]", "filtered-features")]
    [TestCase("dd if=machine/unattached/device[0]/vendor bs=7 2>/dev/null | wc -c", "/machine/unattached/device[0]", "vendor")]
    public async Task ToolsReadUnreadFilesToTheEnd(string script, string path, string property)
    {
        var r = ProcessRunner.Sh($"cd '{_m.Mount}' && {script}");
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((0, "")));
        Assert.That(r.StdOut.Trim(), Is.EqualTo((await Text(path, property)).Length.ToString()));
    }

    [TestCase("tail -c 2 machine/boot | od -An -c | tr -s ' '", " } \\n")]
    [TestCase("tail -n 1 machine/type", MachineType)]
    [TestCase("head -c 4 machine/boot; echo", "{\"or")]
    [TestCase("grep -c true machine/hpet", "1")]
    public void ToolsThatLookAtTheSizeReadUnreadFilesWhole(string script, string expected)
    {
        var r = ProcessRunner.Sh($"cd '{_m.Mount}' && {script}");
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((0, "")));
        Assert.That(r.StdOut.TrimEnd('\n'), Is.EqualTo(expected == MachineType ? peer.Q35MachineType : expected));
    }
}
