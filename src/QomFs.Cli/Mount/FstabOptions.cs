namespace QomFs.Cli.Mount;

/// <summary>
/// The options of an fstab line that are meant for mount(8), systemd or other tools, never for the filesystem.
/// mount(8) already drops most of them, and mount.fuse3 some (nofail, _netdev, auto, noauto, user, nouser, users),
/// but mount.fuse3 run directly still passes on <c>defaults</c>, <c>x-systemd.*</c> and <c>comment=</c>, which
/// libfuse would reject as unknown: they are dropped here.
/// </summary>
static class FstabOptions
{
    static readonly HashSet<string> Names =
        ["defaults", "nofail", "_netdev", "auto", "noauto", "user", "nouser", "users", "owner", "group", "comment"];

    /// <param name="name">an option's name, without its <c>=value</c>.</param>
    public static bool IsFstabOnly(string name) => Names.Contains(name) || name.StartsWith("x-", StringComparison.Ordinal);
}
