using QomFs.Qmp;

namespace QomFs.Cli.Mount;

/// <summary>
/// Turns `-o a,b=c` lists into mount options: ours are taken out, fstab-only ones dropped, the rest go to libfuse as
/// they are.
/// </summary>
static class MountOptionsParser
{
    public static (QomFsMountOptions Options, string? LogFile) Parse(QmpAddress address, string mountPoint, IEnumerable<string> lists)
    {
        var o = new QomFsMountOptions { Address = address, MountPoint = mountPoint };
        string? log = null;
        var extra = new List<string>();
        foreach (var option in lists.SelectMany(l => l.Split(',', StringSplitOptions.RemoveEmptyEntries)))
        {
            var eq = option.IndexOf('=');
            var (name, value) = eq < 0 ? (option, null) : (option[..eq], option[(eq + 1)..]);
            switch (name)
            {
                case "ro": o = o with { ReadOnly = true }; break;
                case "rw": o = o with { ReadOnly = false }; break;
                case "allow_other": o = o with { AllowOther = true }; break;
                case "default_permissions": break; // always on
                case "fsname": o = o with { FsName = Required(name, value) }; break;
                case "subtype": if (value != "qomfs") throw new UsageException("the subtype is always qomfs"); break;
                case "cache_ttl": o = o with { CacheTtl = Duration(name, value, allowZero: true) }; break;
                case "timeout": o = o with { Timeout = Duration(name, value, allowZero: false) }; break;
                case "log": log = Required(name, value); break;
                case "reconnect": o = o with { Reconnect = true }; break;
                case "events": o = o with { Events = true }; break;
                case "qmp_proxy": o = o with { QmpProxy = Required(name, value) is "none" ? "none" : Path.GetFullPath(value!) }; break;
                case "idle_timeout": o = o with { IdleTimeout = Duration(name, value, allowZero: false) }; break;
                default: if (!FstabOptions.IsFstabOnly(name)) extra.Add(option); break;
            }
        }
        return (o with { ExtraOptions = extra }, log);
    }

    static string Required(string name, string? value) =>
        string.IsNullOrEmpty(value) ? throw new UsageException($"-o {name} needs a value ({name}=...)") : value;

    static TimeSpan Duration(string name, string? value, bool allowZero) =>
        Seconds.TryParse(Required(name, value), allowZero)
        ?? throw new UsageException($"-o {name} takes {Seconds.Range(allowZero)}, not '{value}'");
}
