using System.Text;
using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>sysfs-style writes to a mount of each real QEMU, checked through the second socket.</summary>
[Category(Needs.Qemu), Category(Needs.Fuse), Category(Needs.Binary)]
[NonParallelizable]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class WriteTests(QemuPeer peer)
{
    const int Page = 4096;
    MountedQemu _m = null!;

    [OneTimeSetUp] public void Start() => _m = MountedQemu.Start(peer);
    [OneTimeTearDown] public void Stop() => _m.Dispose();

    ProcessResult Sh(string script) => ProcessRunner.Sh($"cd '{_m.Mount}' && {script}");

    [TestCase("echo off > machine/hpet", "/machine", "hpet", "false")]
    [TestCase("echo 42 > machine/phandle-start", "/machine", "phandle-start", "42")]
    [TestCase("printf %s 0x10 > machine/phandle-start", "/machine", "phandle-start", "16")]
    [TestCase("echo 'a string with spaces' > machine/dt-compatible", "/machine", "dt-compatible", "\"a string with spaces\"")]
    [TestCase("echo bind | tee objects/mem0/policy >/dev/null", "/objects/mem0", "policy", "\"bind\"")]
    [TestCase("echo yes > objects/mem0/merge", "/objects/mem0", "merge", "true")]
    [TestCase("echo '[0]' > objects/mem0/host-nodes", "/objects/mem0", "host-nodes", "[0]")]
    public async Task EchoSetsThroughTheCodec(string script, string path, string property, string json)
    {
        var r = Sh(script);
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((0, "")));
        Assert.That(await _m.Raw(path, property), Is.EqualTo(json));
        var text = File.ReadAllText(_m.P($"{path}/{property}"));
        Assert.That(text, Is.EqualTo(json.StartsWith('"') ? json.Trim('"') + "\n" : json + "\n"));
    }

    [TestCase("echo maybe > machine/hpet", "/machine", "hpet", "Invalid argument")]
    [TestCase("echo 4294967296 > objects/mem0/prealloc-threads", "/objects/mem0", "prealloc-threads", "Invalid argument")]
    [TestCase("echo bogus > objects/mem0/policy", "/objects/mem0", "policy", "Invalid argument")]
    [TestCase("echo '{\"order\":' > machine/boot", "/machine", "boot", "Invalid argument")]
    [TestCase("echo x > machine/type", "/machine", "type", "Permission denied")]
    public async Task ABadWriteFailsTheWriteAndChangesNothing(string script, string path, string property, string error)
    {
        var before = await _m.Raw(path, property);
        var r = Sh(script);
        Assert.That(r.ExitCode, Is.Not.EqualTo(0));
        Assert.That(r.StdErr, Does.Contain("write error: " + error));
        Assert.That(await _m.Raw(path, property), Is.EqualTo(before));
        Assert.That(_m.Log, Does.Contain($"write {path}/{property}"));
    }

    [Test]
    public async Task ALongValueWrittenInManyWritesIsSetExactly()
    {
        var value = string.Concat(Enumerable.Range(0, 9000).Select(i => (char)('a' + i % 26)));
        var r = ProcessRunner.Run("/bin/bash", ["-c", "printf %s \"$1\" > \"$2\"", "-", value, _m.P("/machine/dt-compatible")]);
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((0, "")));
        Assert.That(await _m.Raw("/machine", "dt-compatible"), Is.EqualTo("\"" + value + "\""));
        Assert.That(File.ReadAllText(_m.P("/machine/dt-compatible")), Is.EqualTo(value + "\n"), "a value over 8 KiB reads whole");

        // cat and tee deliver it in other chunk sizes.
        var source = Path.Combine(TempPaths.NewDirectory("long"), "v");
        File.WriteAllText(source, value.ToUpperInvariant());
        Assert.That(ProcessRunner.Sh($"cat '{source}' > '{_m.P("/machine/dt-compatible")}'").ExitCode, Is.EqualTo(0));
        Assert.That(await _m.Raw("/machine", "dt-compatible"), Is.EqualTo("\"" + value.ToUpperInvariant() + "\""));
        Assert.That(ProcessRunner.Sh($"tee '{_m.P("/machine/dt-compatible")}' < '{source}' >/dev/null").ExitCode, Is.EqualTo(0));
    }

    [Test]
    public async Task AValueSplitAcrossSmallWritesEndsUpWhole()
    {
        Assert.That(Posix.Write(_m.P("/machine/dt-compatible"), "split "u8.ToArray(), "value\n"u8.ToArray()), Is.EqualTo(0));
        Assert.That(await _m.Raw("/machine", "dt-compatible"), Is.EqualTo("\"split value\""));
    }

    [Test]
    public async Task ARejectedLongValueFailsTheWriteThatEndsIt()
    {
        var before = await _m.Raw("/machine", "phandle-start");
        var chunk = Encoding.ASCII.GetBytes(new string('9', 4096));
        Assert.That(Posix.Write(_m.P("/machine/phandle-start"), chunk, chunk, "9\n"u8.ToArray()), Is.EqualTo(Posix.EINVAL));
        Assert.That(await _m.Raw("/machine", "phandle-start"), Is.EqualTo(before));
    }

    [Test]
    public async Task AValueOfWholePagesIsSetWhenNothingContinuesIt()
    {
        // 8 KiB in page-sized writes looks like more is coming: it is held, then set once nothing follows.
        var value = new string('p', 8192);
        var chunk = Encoding.ASCII.GetBytes(value[..4096]);
        Assert.That(Posix.Write(_m.P("/machine/dt-compatible"), chunk, chunk), Is.EqualTo(0));
        await Wait.UntilAsync(async () => await _m.Raw("/machine", "dt-compatible") == "\"" + value + "\"",
            TimeSpan.FromSeconds(5), "the held value to be set");
    }

    [Test]
    public async Task ARejectedHeldValueIsLoggedAndChangesNothing()
    {
        var before = await _m.Raw("/machine", "phandle-start");
        var chunk = Encoding.ASCII.GetBytes(new string('9', 4096));
        Assert.That(Posix.Write(_m.P("/machine/phandle-start"), chunk, chunk), Is.EqualTo(0), "nothing ended the value while the file was open");
        await Wait.UntilAsync(() => Task.FromResult(_m.Log.Contains("write /machine/phandle-start: ")), TimeSpan.FromSeconds(5), "the refusal in the log");
        Assert.That(await _m.Raw("/machine", "phandle-start"), Is.EqualTo(before));
    }

    [Test]
    public async Task AHeldValueIsSetBeforeTheNextValueOfTheFile()
    {
        int Refusals() => _m.Log.Split("write /machine/phandle-start: ").Length - 1;
        var refusals = Refusals();
        var page = Encoding.ASCII.GetBytes(new string('9', 4096));
        Assert.That(Posix.Write(_m.P("/machine/phandle-start"), page), Is.EqualTo(0));
        Assert.That(Posix.Write(_m.P("/machine/phandle-start"), "5\n"), Is.EqualTo(0));
        Assert.That(await _m.Raw("/machine", "phandle-start"), Is.EqualTo("5"));
        Assert.That(Refusals(), Is.EqualTo(refusals + 1), "the held value was tried (and refused) first, not dropped");
    }

    [Test]
    public async Task AHeldValueReadDuringItsHoldReadsFreshOnceSet()
    {
        // A TTL far longer than the wait below: only the daemon telling the kernel can make the new value show.
        using var m = MountedQemu.Start(peer, "cache_ttl=60");
        var file = m.P("/machine/dt-compatible");
        Assert.That(Posix.Write(file, "hello\n"), Is.EqualTo(0));
        Assert.That(File.ReadAllText(file), Is.EqualTo("hello\n"));
        var page = new string('y', Page - 1) + "\n";
        Assert.That(Posix.Write(file, page), Is.EqualTo(0), "one whole page: held");
        File.ReadAllText(file); // within the hold: the kernel caches what it reads, the old value
        await Wait.UntilAsync(() => Task.FromResult(File.ReadAllText(file) == page), TimeSpan.FromSeconds(5), "the held value through the mount");
        Assert.That(await m.Raw("/machine", "dt-compatible"), Is.EqualTo("\"" + page[..^1] + "\""));
    }

    [Test]
    public void ALongValuesLaterPagesComeFromTheValueNowSet()
    {
        using var m = MountedQemu.Start(peer, "cache_ttl=60");
        var file = m.P("/machine/dt-compatible");
        Assert.That(Posix.Write(file, new string('B', 30000)), Is.EqualTo(0));
        var bytes = new byte[5];
        using (var h = File.OpenHandle(file)) RandomAccess.Read(h, bytes.AsSpan(0, 3), 0); // the first pages only
        Assert.That(Posix.Write(file, new string('C', 30000)), Is.EqualTo(0));
        using (var h = File.OpenHandle(file)) RandomAccess.Read(h, bytes, 7 * Page);
        Assert.That(Encoding.ASCII.GetString(bytes), Is.EqualTo("CCCCC"), "not the tail of the value read before");
    }

    [Test]
    public async Task OverSixtyFourKibibytesIsEfbig()
    {
        var before = await _m.Raw("/machine", "dt-compatible");
        var page = new byte[4096];
        Array.Fill(page, (byte)'z');
        Assert.That(Posix.Write(_m.P("/machine/dt-compatible"), Enumerable.Repeat(page, 17).ToArray()), Is.EqualTo(Posix.EFBIG), "in pages");
        var whole = new byte[64 * 1024 + 1];
        Array.Fill(whole, (byte)'z');
        Assert.That(Posix.Write(_m.P("/machine/dt-compatible"), whole), Is.EqualTo(Posix.EFBIG), "in one write");
        Assert.That(await _m.Raw("/machine", "dt-compatible"), Is.EqualTo(before));
    }

    [Test]
    public async Task BinaryGarbageIsEinval()
    {
        var before = await _m.Raw("/machine", "dt-compatible");
        Assert.That(Posix.Write(_m.P("/machine/dt-compatible"), new byte[] { 0xff, 0xfe, 0x80, 0x00, 0x41 }), Is.EqualTo(Posix.EINVAL));
        Assert.That(await _m.Raw("/machine", "dt-compatible"), Is.EqualTo(before));
    }

    [Test]
    public async Task AWriteIntoTheMiddleIsRefused()
    {
        var before = await _m.Raw("/machine", "phandle-start");
        Assert.That(Posix.WriteAt(_m.P("/machine/phandle-start"), "1"u8.ToArray(), 7, "2"u8.ToArray()), Is.EqualTo(Posix.ESPIPE));
        Assert.That(await _m.Raw("/machine", "phandle-start"), Is.Not.EqualTo("12"));
        _ = before;
    }

    [Test]
    public void DirectoriesAndLinksCannotBeWritten()
    {
        Assert.That(Posix.Write(_m.P("/machine/unattached"), "x"), Is.EqualTo(Posix.EISDIR));
        Assert.That(Posix.Write(_m.P("/machine/memory-backend"), "x"), Is.EqualTo(Posix.EISDIR));
        var r = Sh("echo x > machine/newfile");
        Assert.That(r.ExitCode, Is.Not.EqualTo(0));
        Assert.That(r.StdErr, Does.Contain("Permission denied"));
    }

    [Test]
    public async Task TheNextReadShowsTheNewValueAtOnce()
    {
        Assert.That(File.ReadAllText(_m.P("/objects/mem0/dump")), Is.EqualTo("true\n"));
        Assert.That(Sh("echo false > objects/mem0/dump").ExitCode, Is.EqualTo(0));
        Assert.That(File.ReadAllText(_m.P("/objects/mem0/dump")), Is.EqualTo("false\n"));
        Assert.That(await _m.Raw("/objects/mem0", "dump"), Is.EqualTo("false"));
    }
}
