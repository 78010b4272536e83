using System.Text;

namespace QomFs.Fuse;

/// <summary>
/// The kernel names files by node id, <see cref="IFuseFileSystem"/> by path: this table maps one to the other.
/// A node exists from the first lookup that returns it to the kernel until the kernel forgets it as often as it
/// was looked up. Ids are never reused (generation stays 0). Names are kept as Latin-1 strings, which map every
/// byte to one char, so that any byte sequence round-trips and compares exactly.
/// </summary>
internal sealed class NodeTable
{
    public const ulong RootId = 1;

    /// <summary>A node the kernel holds: its id, its name in its parent directory, and the kernel's lookups of it.</summary>
    sealed class KernelNode(ulong id, KernelNode? parent, string name)
    {
        public ulong Id { get; } = id;
        public KernelNode? Parent { get; set; } = parent;
        public string Name { get; set; } = name;
        public ulong Lookups { get; set; }
        /// <summary>Unlinked or replaced while the kernel still held it: it has no path any more.</summary>
        public bool Detached { get; set; }
    }

    readonly Lock _lock = new();
    readonly Dictionary<ulong, KernelNode> _byId = [];
    readonly Dictionary<(ulong Parent, string Name), KernelNode> _byName = [];
    ulong _lastId = RootId;

    public NodeTable() => _byId[RootId] = new KernelNode(RootId, null, "");

    /// <summary>The nodes the kernel holds, the root included.</summary>
    public int Count
    {
        get { lock (_lock) return _byId.Count; }
    }

    /// <summary>The path of a node ("/" for the root); empty for a detached node; null for an unknown id.</summary>
    public byte[]? PathOf(ulong id)
    {
        lock (_lock) return _byId.TryGetValue(id, out var node) ? PathOf(node, null) : null;
    }

    /// <summary>The path of <paramref name="name"/> in directory <paramref name="parent"/>; null if the directory is unknown or detached.</summary>
    public byte[]? PathOf(ulong parent, ReadOnlySpan<byte> name)
    {
        lock (_lock)
        {
            if (!_byId.TryGetValue(parent, out var node) || node.Detached) return null;
            return PathOf(node, Encoding.Latin1.GetString(name));
        }
    }

    /// <summary>Counts one more lookup of <paramref name="name"/> in <paramref name="parent"/> and returns its id.</summary>
    public ulong Remember(ulong parent, ReadOnlySpan<byte> name)
    {
        var key = (parent, Encoding.Latin1.GetString(name));
        lock (_lock)
        {
            if (!_byName.TryGetValue(key, out var node))
            {
                node = new KernelNode(++_lastId, _byId[parent], key.Item2);
                _byId[node.Id] = node;
                _byName[key] = node;
            }
            node.Lookups++;
            return node.Id;
        }
    }

    /// <summary>The kernel dropped <paramref name="count"/> of its lookups of a node.</summary>
    public void Forget(ulong id, ulong count)
    {
        lock (_lock)
        {
            if (id == RootId || !_byId.TryGetValue(id, out var node)) return;
            node.Lookups -= Math.Min(count, node.Lookups);
            if (node.Lookups > 0) return;
            _byId.Remove(id);
            if (!node.Detached) _byName.Remove((node.Parent!.Id, node.Name));
        }
    }

    /// <summary>The name is gone (unlinked, or replaced by a rename): its node, if any, keeps its id but loses its path.</summary>
    public void Unlinked(ulong parent, ReadOnlySpan<byte> name)
    {
        lock (_lock) Detach((parent, Encoding.Latin1.GetString(name)));
    }

    /// <summary>A rename: the node follows its name (children included), and a node the new name had is detached.</summary>
    public void Renamed(ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName)
    {
        var from = (parent, Encoding.Latin1.GetString(name));
        var to = (newParent, Encoding.Latin1.GetString(newName));
        lock (_lock)
        {
            Detach(to);
            if (_byName.Remove(from, out var node)) Name(node, to);
        }
    }

    /// <summary>A rename with RENAME_EXCHANGE: the two names swap their nodes.</summary>
    public void Exchanged(ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName)
    {
        var one = (parent, Encoding.Latin1.GetString(name));
        var other = (newParent, Encoding.Latin1.GetString(newName));
        lock (_lock)
        {
            _byName.Remove(one, out var first);
            _byName.Remove(other, out var second);
            if (first is not null) Name(first, other);
            if (second is not null) Name(second, one);
        }
    }

    /// <summary>The id of an absolute path ("/a/b") if the kernel holds every node on it; 0 if not.</summary>
    public ulong Find(string path)
    {
        lock (_lock)
        {
            var id = RootId;
            foreach (var name in Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(path)).Split('/', StringSplitOptions.RemoveEmptyEntries))
                if (_byName.TryGetValue((id, name), out var node)) id = node.Id;
                else return 0;
            return id;
        }
    }

    // Under the lock: gives a node its new name, or detaches it if the directory is unknown (cannot happen while
    // the kernel holds the directory, which it does during a rename).
    void Name(KernelNode node, (ulong Parent, string Name) key)
    {
        if (!_byId.TryGetValue(key.Parent, out var directory))
        {
            node.Detached = true;
            return;
        }
        node.Parent = directory;
        node.Name = key.Name;
        _byName[key] = node;
    }

    void Detach((ulong, string) key)
    {
        if (_byName.Remove(key, out var node)) node.Detached = true;
    }

    static byte[] PathOf(KernelNode node, string? child)
    {
        if (node.Detached) return [];
        var path = child is null ? "" : "/" + child;
        for (var n = node; n.Parent is not null; n = n.Parent) path = "/" + n.Name + path;
        return Encoding.Latin1.GetBytes(path.Length == 0 ? "/" : path);
    }
}
