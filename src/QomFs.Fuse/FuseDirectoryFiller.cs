using System.Text;
using QomFs.Fuse.Native;

namespace QomFs.Fuse;

/// <summary>Whether the kernel asked for attributes with the names.</summary>
[Flags]
public enum FuseReadDirFlags
{
    None = 0,
    /// <summary>The kernel asked for READDIRPLUS: entries added with attributes are cached as if looked up.</summary>
    Plus = 1,
}

/// <summary>
/// Adds entries to a ReadDir reply. The file system simply adds ALL entries, in a stable order, on every call;
/// the filler numbers them 1, 2, 3... and gives those numbers to the kernel as offsets, skipping the ones the
/// kernel already has and stopping when the reply buffer is full. The order must not change between the calls
/// of one listing, or entries are skipped or repeated. With READDIRPLUS, an entry added with attributes reaches
/// the kernel's caches as if it had been looked up; one added by name only is looked up when it is used.
/// </summary>
public unsafe ref struct FuseDirectoryFiller
{
    const int MaxStackName = 512;

    readonly nint _request;
    readonly byte* _buffer;
    readonly nuint _size;
    readonly ulong _skip;
    readonly bool _plus;
    readonly ulong _directory;
    readonly MountState _state;
    nuint _used;
    ulong _index;
    bool _full;

    internal FuseDirectoryFiller(nint request, byte* buffer, nuint size, ulong offset, bool plus, ulong directory, MountState state)
    {
        _request = request;
        _buffer = buffer;
        _size = size;
        _skip = offset;
        _plus = plus;
        _directory = directory;
        _state = state;
    }

    /// <summary>False once the reply buffer is full; further entries are ignored and the kernel asks again.</summary>
    public readonly bool HasRoom => !_full;

    internal readonly nuint Used => _used;

    /// <summary>Adds an entry known only by name (the kernel looks it up when needed).</summary>
    /// <returns>False if the reply is full.</returns>
    public bool Add(ReadOnlySpan<byte> name) => AddCore(name, null);

    /// <summary>Adds an entry with its attributes, which serve READDIRPLUS when the kernel asked for it.</summary>
    /// <returns>False if the reply is full.</returns>
    public bool Add(ReadOnlySpan<byte> name, in FuseStat stat)
    {
        fixed (FuseStat* s = &stat) return AddCore(name, s);
    }

    public bool Add(string name) => Add(Encoding.UTF8.GetBytes(name));

    public bool Add(string name, in FuseStat stat) => Add(Encoding.UTF8.GetBytes(name), in stat);

    bool AddCore(ReadOnlySpan<byte> name, FuseStat* stat)
    {
        if (_full) return false;
        _index++;
        if (_index <= _skip) return true;

        Span<byte> cName = name.Length < MaxStackName ? stackalloc byte[MaxStackName] : new byte[name.Length + 1];
        name.CopyTo(cName);
        cName[name.Length] = 0;
        var room = _size - _used;
        fixed (byte* n = cName)
        {
            var entry = default(FuseEntryParam);
            if (stat != null) entry.Attr = *stat;
            var dot = name.SequenceEqual("."u8) || name.SequenceEqual(".."u8);
            // d_ino: the directory's id for ".", an entry's node id once it is remembered below, else libfuse's
            // "unknown"; never 0, which some readers take for a deleted entry.
            entry.Attr.Inode = name.SequenceEqual("."u8) ? _directory : FuseOperations.UnknownInode;
            nuint length;
            if (!_plus) length = LibFuse.AddDirEntry(_request, _buffer + _used, room, n, &entry.Attr, (long)_index);
            else
            {
                // Sized first: a node is remembered only for an entry that is really sent.
                length = LibFuse.AddDirEntryPlus(_request, null, 0, n, &entry, (long)_index);
                if (length > room) return Full();
                if (stat != null && !dot)
                {
                    entry.Ino = entry.Attr.Inode = _state.Nodes.Remember(_directory, name);
                    entry.AttrTimeout = _state.Options.AttrTimeout;
                    entry.EntryTimeout = _state.Options.EntryTimeout;
                }
                length = LibFuse.AddDirEntryPlus(_request, _buffer + _used, room, n, &entry, (long)_index);
            }
            if (length > room) return Full();
            _used += length;
        }
        return true;
    }

    bool Full()
    {
        _full = true;
        return false;
    }
}
