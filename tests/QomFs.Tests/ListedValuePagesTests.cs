using QomFs.Qom;
using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>
/// Where a listing brings the values (QEMU 11's qom-list-get), a directory listed to its end, or the first read of
/// a file of a directory not listed, puts the values into the kernel's page cache, so reading them costs no READ. Which pages the kernel holds is
/// seen with fincore (mincore(2) on a mapping: it reads nothing). Each test uses an object of its own.
/// </summary>
[Category(Needs.Qemu), Category(Needs.Fuse), Category(Needs.Binary)]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class ListedValuePagesTests(QemuPeer peer)
{
    MountedQemu _m = null!;

    [OneTimeSetUp]
    public void Start()
    {
        Require.Tool("fincore", "seeing which pages the kernel holds");
        _m = MountedQemu.Start(peer, "cache_ttl=30", "-smp", "2", "-object", "memory-backend-ram,id=mem0,size=64M",
            "-object", "memory-backend-ram,id=mem1,size=64M");
    }

    [OneTimeTearDown] public void Stop() => _m.Dispose();

    static int ResidentPages(string file) => PageCache.ResidentPages(file);

    async Task<string> Text(string path, string property) =>
        ValueCodec.FormatText((await _m.Check.ExecuteAsync("qom-get", w => { w.WriteString("path", path); w.WriteString("property", property); })).Json.Span);

    [Test]
    public async Task ADirectoryListedToItsEndHasItsValuesInThePageCacheOnlyWhereTheListingHadThem()
    {
        const string cpu = "/machine/unattached/device[0]";
        string[] files = ["feature-words", "family", "model-id", "apic-id"];
        _ = Directory.GetFileSystemEntries(_m.P(cpu)); // reads the listing to its end, and no file
        if (peer.HasQomListGet)
            Wait.Until(() => files.All(f => ResidentPages(_m.P($"{cpu}/{f}")) == 1), TimeSpan.FromSeconds(10), "the files' pages");
        else
        {
            // QEMU 7.2's listing has no values: nothing to store. A read is a READ answered after any store would be.
            File.ReadAllText(_m.P($"{cpu}/vendor"));
            foreach (var f in files) Assert.That(ResidentPages(_m.P($"{cpu}/{f}")), Is.Zero, $"{f} unread on {peer}");
        }
        // Stored or read, every file reads its value (the VM is paused: the values hold still).
        foreach (var f in files) Assert.That(File.ReadAllText(_m.P($"{cpu}/{f}")), Is.EqualTo(await Text(cpu, f)), f);
    }

    [Test]
    public async Task TheFirstReadOfAFileOfADirectoryNotListedBringsItsSiblingsValues()
    {
        const string mem = "/objects/mem1";
        string[] siblings = ["policy", "share", "prealloc"];
        foreach (var s in siblings) Assert.That(ResidentPages(_m.P($"{mem}/{s}")), Is.Zero, $"{s} before any read");

        Assert.That(File.ReadAllText(_m.P($"{mem}/size")), Is.EqualTo(await Text(mem, "size")));
        if (peer.HasQomListGet)
            Wait.Until(() => siblings.All(s => ResidentPages(_m.P($"{mem}/{s}")) == 1), TimeSpan.FromSeconds(10), "the siblings' pages");
        else
        {
            File.ReadAllText(_m.P($"{mem}/dump"));
            foreach (var s in siblings) Assert.That(ResidentPages(_m.P($"{mem}/{s}")), Is.Zero, $"{s} unread on {peer}");
        }
        foreach (var s in siblings) Assert.That(File.ReadAllText(_m.P($"{mem}/{s}")), Is.EqualTo(await Text(mem, s)), s);
    }

    [Test]
    public async Task AStoredPageNeverHidesAWrite()
    {
        const string mem = "/objects/mem0";
        _ = Directory.GetFileSystemEntries(_m.P(mem));
        Assert.That(File.ReadAllText(_m.P($"{mem}/size")), Is.EqualTo(await Text(mem, "size")));
        if (peer.HasQomListGet) Wait.Until(() => ResidentPages(_m.P($"{mem}/policy")) == 1, TimeSpan.FromSeconds(10), "policy's page");
        Assert.That(File.ReadAllText(_m.P($"{mem}/policy")), Is.EqualTo("default\n"));
        File.WriteAllText(_m.P($"{mem}/policy"), "bind\n");
        Assert.That(await Text(mem, "policy"), Is.EqualTo("bind\n"));
        Assert.That(File.ReadAllText(_m.P($"{mem}/policy")), Is.EqualTo("bind\n"));
    }
}
