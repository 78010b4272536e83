using System.Runtime.InteropServices;

namespace QomFs.Fuse;

/// <summary>
/// <c>struct fuse_file_info</c> (40 bytes). After the int <c>flags</c> comes a 32-bit word of one-bit fields
/// (writepage, direct_io, keep_cache, flush, nonseekable, flock_release, cache_readdir, noflush, then padding),
/// then another 32-bit padding word, so <c>fh</c> sits at 16. gcc on x86_64 allocates bit-fields from the least
/// significant bit; the layout test checks each bit against the compiler.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct FuseFileInfo
{
    internal const int WritePageBit = 0, DirectIoBit = 1, KeepCacheBit = 2, FlushBit = 3, NonSeekableBit = 4,
        FlockReleaseBit = 5, CacheReaddirBit = 6, NoFlushBit = 7;

    /// <summary>open(2) flags (O_ACCMODE, O_APPEND, ...): set in Open, Create and Release.</summary>
    [FieldOffset(0)] public int Flags;
    [FieldOffset(4)] internal uint Bits;
    /// <summary>A value of the file system's choosing, set in Open/OpenDir/Create and handed back on later calls.</summary>
    [FieldOffset(16)] public ulong FileHandle;
    [FieldOffset(24)] public ulong LockOwner;
    [FieldOffset(32)] public uint PollEvents;

    /// <summary>The write comes from the page cache (delayed), so the caller's context is not meaningful.</summary>
    public readonly bool WritePage => Get(WritePageBit);
    /// <summary>Set in Open to bypass the page cache: every read(2) reaches Read, and its result length is what the reader gets.</summary>
    public bool DirectIo { readonly get => Get(DirectIoBit); set => Set(DirectIoBit, value); }
    /// <summary>Set in Open to keep data cached from earlier opens.</summary>
    public bool KeepCache { readonly get => Get(KeepCacheBit); set => Set(KeepCacheBit, value); }
    /// <summary>Release is also a flush (set by libfuse).</summary>
    public readonly bool Flush => Get(FlushBit);
    /// <summary>Set in Open for stream-like files: lseek/pread fail with ESPIPE.</summary>
    public bool NonSeekable { readonly get => Get(NonSeekableBit); set => Set(NonSeekableBit, value); }
    /// <summary>Set in OpenDir to let the kernel cache the listing it reads (with KeepCache, across opens).</summary>
    public bool CacheReaddir { readonly get => Get(CacheReaddirBit); set => Set(CacheReaddirBit, value); }
    /// <summary>Set in Open when close(2) needs no Flush.</summary>
    public bool NoFlush { readonly get => Get(NoFlushBit); set => Set(NoFlushBit, value); }

    /// <summary>The access mode part of <see cref="Flags"/>: 0 O_RDONLY, 1 O_WRONLY, 2 O_RDWR.</summary>
    public readonly int AccessMode => Flags & 3;

    readonly bool Get(int bit) => (Bits & (1u << bit)) != 0;
    void Set(int bit, bool value) => Bits = value ? Bits | (1u << bit) : Bits & ~(1u << bit);
}

/// <summary>
/// A <see cref="FuseFileInfo"/> that libfuse may or may not pass (getattr, truncate, chmod... get NULL when the
/// request is not about an open file). Check <see cref="IsNull"/> before touching <see cref="Value"/>.
/// </summary>
public readonly unsafe struct FuseFileInfoRef
{
    readonly FuseFileInfo* _info;

    internal FuseFileInfoRef(FuseFileInfo* info) => _info = info;

    public bool IsNull => _info == null;

    /// <exception cref="InvalidOperationException">There is no file info for this request.</exception>
    public ref FuseFileInfo Value
    {
        get
        {
            if (_info == null) throw new InvalidOperationException("this request carries no fuse_file_info");
            return ref *_info;
        }
    }
}
