using System.Text;

namespace QomFs.Fuse.Tests;

/// <summary>The map from the kernel's node ids to paths, on its own (the mount tests cover it through the kernel).</summary>
public class NodeTableTests
{
    static string? Path(NodeTable t, ulong id) => t.PathOf(id) is { } p ? Encoding.Latin1.GetString(p) : null;

    [Test]
    public void LookupsGiveStableIdsAndPaths()
    {
        var t = new NodeTable();
        var dir = t.Remember(NodeTable.RootId, "machine"u8);
        var file = t.Remember(dir, "type"u8);
        Assert.That(t.Remember(NodeTable.RootId, "machine"u8), Is.EqualTo(dir), "a name looked up again keeps its id");
        Assert.That((Path(t, NodeTable.RootId), Path(t, dir), Path(t, file)), Is.EqualTo(("/", "/machine", "/machine/type")));
        Assert.That(Encoding.Latin1.GetString(t.PathOf(dir, "x"u8)!), Is.EqualTo("/machine/x"));
        Assert.That(t.Find("/machine/type"), Is.EqualTo(file));
        Assert.That(t.Find("/machine/other"), Is.Zero);
        Assert.That(Path(t, 999), Is.Null);
    }

    [Test]
    public void ANodeLivesUntilForgottenAsOftenAsLookedUp()
    {
        var t = new NodeTable();
        var id = t.Remember(NodeTable.RootId, "a"u8);
        t.Remember(NodeTable.RootId, "a"u8);
        t.Forget(id, 1);
        Assert.That(Path(t, id), Is.EqualTo("/a"));
        t.Forget(id, 1);
        Assert.That((Path(t, id), t.Count), Is.EqualTo(((string?)null, 1)));
        Assert.That(t.Remember(NodeTable.RootId, "a"u8), Is.Not.EqualTo(id), "ids are never reused");
        t.Forget(NodeTable.RootId, 5);
        Assert.That(Path(t, NodeTable.RootId), Is.EqualTo("/"), "the root is never forgotten");
    }

    [Test]
    public void UnlinkAndRenameMoveNamesNotNodes()
    {
        var t = new NodeTable();
        var dir = t.Remember(NodeTable.RootId, "d"u8);
        var child = t.Remember(dir, "f"u8);
        var other = t.Remember(NodeTable.RootId, "e"u8);
        t.Renamed(NodeTable.RootId, "d"u8, NodeTable.RootId, "e"u8);
        Assert.That((Path(t, dir), Path(t, child)), Is.EqualTo(("/e", "/e/f")), "children follow their directory");
        Assert.That(Path(t, other), Is.Empty, "the replaced node lost its name");
        t.Unlinked(dir, "f"u8);
        Assert.That(Path(t, child), Is.Empty, "an unlinked node keeps its id but has no path");
        Assert.That(t.Remember(dir, "f"u8), Is.Not.EqualTo(child), "a new file of the same name is a new node");
    }

    [Test]
    public void AnExchangeSwapsTheNodesOfTwoNames()
    {
        var t = new NodeTable();
        var a = t.Remember(NodeTable.RootId, "a"u8);
        var dir = t.Remember(NodeTable.RootId, "d"u8);
        var b = t.Remember(dir, "b"u8);
        t.Exchanged(NodeTable.RootId, "a"u8, dir, "b"u8);
        Assert.That((Path(t, a), Path(t, b)), Is.EqualTo(("/d/b", "/a")));
        Assert.That((t.Find("/a"), t.Find("/d/b")), Is.EqualTo((b, a)));
    }

    [Test]
    public void NamesAreBytesNotText()
    {
        var t = new NodeTable();
        byte[] invalidUtf8 = [0xff, 0xfe, (byte)'x'];
        var id = t.Remember(NodeTable.RootId, invalidUtf8);
        Assert.That(t.PathOf(id), Is.EqualTo((byte[])[(byte)'/', .. invalidUtf8]));
    }
}
