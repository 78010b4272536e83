namespace QomFs.Fuse;

/// <summary>How to mount and serve. Defaults are libfuse's, except where noted.</summary>
public sealed record FuseMountOptions
{
    /// <summary>Mount read-only (-o ro): the kernel refuses writes before they reach the file system.</summary>
    public bool ReadOnly { get; init; }
    /// <summary>-o allow_other: other users may use the mount (needs user_allow_other in /etc/fuse.conf unless root).</summary>
    public bool AllowOther { get; init; }
    /// <summary>-o default_permissions: the kernel checks modes/uid/gid from GetAttr; Access is then never called.</summary>
    public bool DefaultPermissions { get; init; }
    /// <summary>The "device" column of mount(8) and /proc/mounts.</summary>
    public string FsName { get; init; } = "fuse";
    /// <summary>Shown as the type <c>fuse.&lt;subtype&gt;</c>; null leaves plain "fuse".</summary>
    public string? Subtype { get; init; }
    /// <summary>More -o options, each like "name" or "name=value" (e.g. "debug", "max_read=131072").</summary>
    public IReadOnlyList<string> ExtraOptions { get; init; } = [];

    /// <summary>Seconds the kernel may cache a name lookup.</summary>
    public double EntryTimeout { get; init; } = 1.0;
    /// <summary>Seconds the kernel may cache attributes (GetAttr and READDIRPLUS results).</summary>
    public double AttrTimeout { get; init; } = 1.0;
    /// <summary>Seconds the kernel may cache "does not exist".</summary>
    public double NegativeTimeout { get; init; }
    /// <summary>Keep file contents cached across opens (only right if files never change behind the kernel's back).</summary>
    public bool KernelCache { get; init; }
    /// <summary>Bypass the page cache for every file: each read(2) reaches Read, so contents may change any time.</summary>
    public bool DirectIo { get; init; }
    /// <summary>
    /// Attributes with every batch of a listing (READDIRPLUS_AUTO off), not just the first: right when ReadDir has
    /// them at no extra cost. By default the kernel asks for plain names after the first batch unless something
    /// was looked up meanwhile, so entries past the first batch then cost a LOOKUP or GETATTR each when used.
    /// </summary>
    public bool AttributesWithEveryBatch { get; init; }

    /// <summary>
    /// The kernel handles POSIX ACLs itself (FUSE_CAP_POSIX_ACL): it checks them, and caches what GetXAttr answered
    /// for <c>system.posix_acl_*</c> instead of asking at every <c>ls -l</c>. Implies <see cref="DefaultPermissions"/>.
    /// Ignored if the kernel cannot.
    /// </summary>
    public bool PosixAcls { get; init; }

    /// <summary>Idle worker threads kept alive; null is libfuse's default (3.14: never destroy idle threads).</summary>
    public int? MaxIdleThreads { get; init; }
    /// <summary>Upper bound on worker threads (fuse_loop_cfg_set_max_threads, libfuse 3.12+); null is libfuse's default (10).</summary>
    public int? MaxThreads { get; init; }

    /// <summary>How long Dispose waits for a running loop to end before detaching the mount regardless.</summary>
    public TimeSpan ExitTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Told about exceptions other than <see cref="FuseException"/> (bugs), which fail their request with EIO.</summary>
    public Action<Exception>? UnhandledException { get; init; }
}
