using System.Text;
using System.Text.Json;
using QomFs.Qmp;
using QomFs.Qom;
using QomFs.Testing;

namespace QomFs.Tests;

/// <summary>What a mount of each real QEMU shows, against raw reads of the same QEMU through a second socket.</summary>
[Category(Needs.Qemu), Category(Needs.Fuse), Category(Needs.Binary)]
[NonParallelizable]
[TestFixtureSource(typeof(QemuPeer), nameof(QemuPeer.All))]
public class TreeTests(QemuPeer peer)
{
    MountedQemu _m = null!;

    [OneTimeSetUp] public void Start() => _m = MountedQemu.Start(peer);
    [OneTimeTearDown] public void Stop() => _m.Dispose();

    async Task<JsonElement[]> RawList(string path) =>
        [.. (await _m.Check.ExecuteAsync("qom-list", w => w.WriteString("path", path))).ToElement().EnumerateArray()];

    async Task<List<string>> AllObjects()
    {
        var all = new List<string>();
        var queue = new Queue<string>(["/"]);
        while (queue.Count > 0)
        {
            var p = queue.Dequeue();
            all.Add(p);
            foreach (var e in await RawList(p))
                if (e.GetProperty("type").GetString()!.StartsWith("child<"))
                    queue.Enqueue(QomPath.Combine(p, e.GetProperty("name").GetString()!));
        }
        return all;
    }

    [Test]
    public async Task EveryDirectoryListsExactlyWhatQomListSays()
    {
        var objects = await AllObjects();
        Assert.That(objects, Has.Count.GreaterThan(200));
        foreach (var path in objects)
        {
            var dir = new DirectoryInfo(_m.P(path));
            // The root also shows the connection's own entries, which QOM has not.
            var entries = dir.GetFileSystemInfos().Where(e => !(path == "/" && e.Name is ".events" or ".qmp.sock")).ToDictionary(e => e.Name);
            var raw = await RawList(path);
            Assert.That(entries.Keys, Is.EquivalentTo(raw.Select(e => e.GetProperty("name").GetString())), path);
            foreach (var e in raw)
            {
                var kind = QomProperty.KindOf(e.GetProperty("type").GetString()!);
                var info = entries[e.GetProperty("name").GetString()!];
                var expected = kind switch { QomPropertyKind.Child => "dir", QomPropertyKind.Link => "link", _ => "file" };
                var actual = info.LinkTarget is not null ? "link" : info is DirectoryInfo ? "dir" : "file";
                Assert.That(actual, Is.EqualTo(expected), info.FullName);
            }
        }
    }

    [Test]
    public async Task EveryFileReadsAsTheCodecTextOfARawGetAndUnreadableOnesGiveTheirErrno()
    {
        int files = 0, unreadable = 0;
        foreach (var path in await AllObjects())
        {
            if (!path.StartsWith("/machine")) continue;
            foreach (var e in await RawList(path))
            {
                var name = e.GetProperty("name").GetString()!;
                var type = e.GetProperty("type").GetString()!;
                if (QomProperty.KindOf(type) != QomPropertyKind.Value || type == "struct tm") continue;
                var (errno, data) = Posix.Read(_m.P(QomPath.Combine(path, name)));
                try
                {
                    var raw = await _m.Check.ExecuteAsync("qom-get", w => { w.WriteString("path", path); w.WriteString("property", name); });
                    Assert.That((errno, Encoding.UTF8.GetString(data)), Is.EqualTo((0, ValueCodec.FormatText(raw.Json.Span))), $"{path}/{name}");
                }
                catch (QmpCommandException x)
                {
                    var expected = x.Description.Contains("is not readable") ? Posix.EACCES : Posix.EIO;
                    Assert.That(errno, Is.EqualTo(expected), $"{path}/{name}: {x.Description}");
                    unreadable++;
                }
                files++;
            }
        }
        Assert.That(files, Is.GreaterThan(1000));
        Assert.That(unreadable, Is.GreaterThan(0));
    }

    [Test]
    public async Task SetLinksResolveToTheirObjectAndUnsetOnesDangleVisibly()
    {
        int set = 0, unset = 0;
        foreach (var path in await AllObjects())
            foreach (var e in await RawList(path))
            {
                if (QomProperty.KindOf(e.GetProperty("type").GetString()!) != QomPropertyKind.Link) continue;
                var name = e.GetProperty("name").GetString()!;
                var target = JsonDocument.Parse(await _m.Raw(path, name)).RootElement.GetString()!;
                var link = _m.P(QomPath.Combine(path, name));
                var text = File.ResolveLinkTarget(link, returnFinalTarget: false)!;
                if (target.Length == 0)
                {
                    Assert.That(new FileInfo(link).LinkTarget, Is.EqualTo(QomFileSystem.UnsetLinkTarget), link);
                    Assert.That(Directory.Exists(link), Is.False);
                    unset++;
                    continue;
                }
                Assert.That(new FileInfo(link).LinkTarget, Does.Not.StartWith("/"), "links are relative");
                Assert.That(text.FullName, Is.EqualTo(_m.Mount + target), link);
                Assert.That(Directory.Exists(link), Is.True, link);
                set++;
            }
        Assert.That(set, Is.GreaterThan(100));
        Assert.That(unset, Is.GreaterThan(0));
    }

    [Test]
    public void ShellToolsWork()
    {
        var cpu = _m.P("/machine/unattached/device[0]");
        var r = ProcessRunner.Sh($"""
            set -e
            cd '{cpu}'
            test "$(cat feature-words | wc -c)" = "$(wc -c < feature-words)"
            head -c 5 feature-words; echo
            tail -c 3 type
            cp feature-words /tmp/qomfs-cp-$$ && cmp feature-words /tmp/qomfs-cp-$$ && rm /tmp/qomfs-cp-$$
            grep -l '^qemu64-x86_64-cpu$' type
            less -F type </dev/null
            ls -L ../../../machine/memory-backend/type
            readlink -f '{_m.P("/machine/memory-backend")}'
            """);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr);
        Assert.That(r.StdOut, Is.EqualTo($"[{{\"cp\npu\ntype\nqemu64-x86_64-cpu\n../../../machine/memory-backend/type\n{_m.Mount}/objects/pc.ram\n"));
    }

    [Test]
    public void GrepOverTheWholeMachineFindsValues()
    {
        var r = ProcessRunner.Sh($"grep -r -l -x '{peer.Q35MachineType}' '{_m.P("/machine")}' 2>/dev/null; true");
        Assert.That(r.StdOut.Trim(), Is.EqualTo(_m.P("/machine/type")));
    }

    [Test]
    public void MetadataIsTheMountingUsersAndTimesAreSensible()
    {
        var r = ProcessRunner.Sh($"stat -c '%a %u %g %Y %F' '{_m.P("/machine")}' '{_m.P("/machine/hpet")}' '{_m.P("/machine/memory-backend")}'; id -u; id -g");
        var lines = r.StdOut.Split('\n');
        var (uid, gid) = (lines[3], lines[4]);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string[] expected = ["755 {0} {1} directory", "644 {0} {1} regular", "777 {0} {1} symbolic link"];
        for (var i = 0; i < 3; i++)
        {
            var f = lines[i].Split(' ', 5);
            Assert.That($"{f[0]} {f[1]} {f[2]} {f[4]}", Does.StartWith(string.Format(expected[i], uid, gid)));
            Assert.That(long.Parse(f[3]), Is.InRange(now - 600, now + 5));
        }
    }

    [Test]
    public void ExtendedAttributesCarryTheType()
    {
        var r = ProcessRunner.Run("getfattr", ["-d", "--absolute-names", _m.P("/machine/hpet"), _m.P("/machine/unattached"), _m.P("/machine/memory-backend"), _m.Mount]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr);
        Assert.That(r.StdOut, Is.EqualTo(
            $"# file: {_m.P("/machine/hpet")}\nuser.qom.type=\"bool\"\n\n" +
            $"# file: {_m.P("/machine/unattached")}\nuser.qom.type=\"child<container>\"\n\n" +
            // Linux keeps user.* attributes off symlinks, so getfattr follows the link to its object.
            $"# file: {_m.P("/machine/memory-backend")}\nuser.qom.type=\"child<memory-backend-ram>\"\n\n" +
            $"# file: {_m.Mount}\nuser.qom.type=\"container\"\n\n"));
        r = ProcessRunner.Run("getfattr", ["-n", "user.qom.nope", _m.P("/machine/hpet")]);
        Assert.That(r.ExitCode, Is.Not.EqualTo(0));
        Assert.That(r.StdErr, Does.Contain("No such attribute"));
    }

    [Test]
    public void UnknownNamesAreEnoent()
    {
        Assert.That(Posix.Read(_m.P("/machine/no-such-property")).Errno, Is.EqualTo(Posix.ENOENT));
        Assert.That(Posix.Read(_m.P("/no-such-object/x")).Errno, Is.EqualTo(Posix.ENOENT));
        Assert.That(Directory.Exists(_m.P("/machine/../machine/unattached")), Is.True);
        Assert.That(Directory.GetFileSystemEntries(_m.P("/machine/..")).Select(Path.GetFileName), Does.Contain("machine"));
    }

    [Test]
    public void DfAnswers()
    {
        var r = ProcessRunner.Run("df", [_m.Mount]);
        Assert.That((r.ExitCode, r.StdOut), Is.EqualTo((0, r.StdOut)));
        Assert.That(r.StdOut, Does.Contain(_m.Mount));
    }

    [Test]
    public void TheMountShowsAsFuseQomfs()
    {
        var line = File.ReadLines("/proc/mounts").Single(l => l.Split(' ')[1] == _m.Mount);
        Assert.That(line, Does.StartWith($"qomfs {_m.Mount} fuse.qomfs "));
    }
}
