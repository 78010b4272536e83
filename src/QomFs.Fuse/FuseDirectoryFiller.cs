using System.Text;

namespace QomFs.Fuse;

/// <summary><c>enum fuse_readdir_flags</c>.</summary>
[Flags]
public enum FuseReadDirFlags
{
    None = 0,
    /// <summary>The kernel asked for READDIRPLUS: entries added with attributes are cached as if looked up.</summary>
    Plus = 1,
}

/// <summary>
/// Adds entries to a ReadDir reply. The file system simply adds ALL entries, in a stable order, on every call;
/// the filler numbers them 1, 2, 3... and passes those numbers to libfuse as offsets, skipping the ones the
/// kernel already has and stopping when the reply buffer is full.
/// Why not offset 0 ("whole directory at once")? In libfuse 3.14 that mode drops the attributes of READDIRPLUS
/// entries (it replies with nodeid 0), so <c>ls -l</c> would still cost one LOOKUP per entry. With real offsets
/// the attributes given to <see cref="Add(ReadOnlySpan{byte}, in FuseStat)"/> reach the kernel's caches.
/// The order must not change between the calls of one listing, or entries are skipped or repeated.
/// </summary>
public unsafe ref struct FuseDirectoryFiller
{
    internal const int FUSE_FILL_DIR_PLUS = 1 << 1;
    const int MaxStackName = 512;

    readonly void* _buffer;
    readonly delegate* unmanaged<void*, byte*, FuseStat*, long, int, int> _fill;
    readonly ulong _skip;
    readonly bool _plus;
    ulong _index;
    bool _full;

    internal FuseDirectoryFiller(void* buffer, delegate* unmanaged<void*, byte*, FuseStat*, long, int, int> fill,
        ulong offset, bool plus)
    {
        _buffer = buffer;
        _fill = fill;
        _skip = offset;
        _plus = plus;
    }

    /// <summary>False once the reply buffer is full; further entries are ignored and the kernel asks again.</summary>
    public readonly bool HasRoom => !_full;

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
        var flags = stat != null && _plus ? FUSE_FILL_DIR_PLUS : 0;
        fixed (byte* n = cName)
        {
            if (_fill(_buffer, n, stat, (long)_index, flags) != 0)
            {
                _full = true;
                return false;
            }
        }
        return true;
    }
}
