using System.Diagnostics;

namespace QomFs.Testing;

/// <summary>
/// One of the real QEMUs the tests run against, with its qemu-ga: Debian 12's QEMU 7.2 on PATH, and QEMU 11 from the
/// Debian unstable root that scripts/install-modern-qemu.sh builds. Knows how to start each program and what the
/// version-dependent facts are, so that a suite parameterised over <see cref="All"/> asserts the right ones.
/// </summary>
public sealed class QemuPeer
{
    /// <summary>Where the modern root is: the same default as scripts/install-modern-qemu.sh.</summary>
    public static string ModernRoot =>
        Environment.GetEnvironmentVariable("QOMFS_MODERN_ROOT") is { Length: > 0 } r ? r : "/var/cache/qomfs/sid-root";

    /// <summary>Debian 12's QEMU: <c>qom-list</c> and <c>qom-get</c> only.</summary>
    public static readonly QemuPeer Qemu72 = new("QEMU 7.2", 7, 2, root: null);

    /// <summary>
    /// Debian unstable's QEMU (11.x today): lists values with <c>qom-list-get</c> (QEMU 10.1 and later). Its version is
    /// read from the root's package database, not written here, so that the facts follow when unstable moves on.
    /// </summary>
    public static readonly QemuPeer Qemu11 = Modern(ModernRoot);

    /// <summary>Every peer, for <c>[TestFixtureSource(typeof(QemuPeer), nameof(All))]</c>.</summary>
    public static readonly QemuPeer[] All = [Qemu72, Qemu11];

    readonly string? _root;

    public string Name { get; }
    public int Major { get; }
    public int Minor { get; }

    QemuPeer(string name, int major, int minor, string? root)
    {
        Name = name;
        Major = major;
        Minor = minor;
        _root = root;
    }

    static QemuPeer Modern(string root)
    {
        var (major, minor) = InstalledVersion(Path.Combine(root, "var/lib/dpkg/status"), "qemu-system-x86") ?? (11, 1);
        return new($"QEMU {major}.{minor}", major, minor, root);
    }

    /// <summary>
    /// The upstream major and minor of a package's installed version in a dpkg status file ("1:11.1.3+ds-1" gives
    /// 11, 1); null when the file or the package is missing, and then starting the program fails with the root's hint.
    /// </summary>
    public static (int Major, int Minor)? InstalledVersion(string statusFile, string package)
    {
        if (!File.Exists(statusFile)) return null;
        var inPackage = false;
        foreach (var line in File.ReadLines(statusFile))
        {
            if (line.StartsWith("Package: ", StringComparison.Ordinal)) inPackage = line == $"Package: {package}";
            else if (inPackage && line.StartsWith("Version: ", StringComparison.Ordinal))
            {
                var upstream = line["Version: ".Length..];
                upstream = upstream[(upstream.IndexOf(':') + 1)..];
                var parts = upstream.Split('.', '+', '-', '~');
                return parts.Length >= 2 && int.TryParse(parts[0], out var major) && int.TryParse(parts[1], out var minor)
                    ? (major, minor) : null;
            }
        }
        return null;
    }

    /// <summary>QEMU 10.1 added <c>qom-list-get</c>: one command lists an object's properties with their values.</summary>
    public bool HasQomListGet => Major > 10 || (Major == 10 && Minor >= 1);

    /// <summary>The QOM type of <c>-M q35</c> on this version, e.g. <c>pc-q35-7.2-machine</c>.</summary>
    public string Q35MachineType => $"pc-q35-{Major}.{Minor}-machine";

    /// <summary>A start of qemu-system-x86_64 (not yet with its arguments); a missing program skips or, under CI, fails.</summary>
    public ProcessStartInfo QemuStartInfo() =>
        _root is null
            ? new ProcessStartInfo(Require.Tool("qemu-system-x86_64", "the tests run against a real QEMU"))
            : InRoot("usr/bin/qemu-system-x86_64", "-L", Path.Combine(_root, "usr/share/qemu"), "-L", Path.Combine(_root, "usr/share/seabios"));

    /// <summary>A start of qemu-ga (not yet with its arguments); a missing program skips or, under CI, fails.</summary>
    public ProcessStartInfo QemuGaStartInfo() =>
        _root is null
            ? new ProcessStartInfo(Require.Tool("qemu-ga", "the guest agent tests run against a real qemu-ga"))
            : InRoot("usr/sbin/qemu-ga");

    /// <summary>
    /// The root's program run by the root's own loader and libraries, with this host's paths: its sockets are where the
    /// test puts them, and the process the loader becomes is the program itself (its PID is the one to stop).
    /// </summary>
    ProcessStartInfo InRoot(string program, params string[] first)
    {
        var loader = Path.Combine(_root!, "lib64/ld-linux-x86-64.so.2");
        var path = Path.Combine(_root!, program);
        var why = $"the tests also run against {Name}; run scripts/install-modern-qemu.sh";
        Require.File(loader, why);
        Require.File(path, why);
        var psi = new ProcessStartInfo(loader);
        psi.ArgumentList.Add("--library-path");
        psi.ArgumentList.Add($"{_root}/usr/lib/x86_64-linux-gnu:{_root}/lib/x86_64-linux-gnu");
        psi.ArgumentList.Add(path);
        foreach (var a in first) psi.ArgumentList.Add(a);
        return psi;
    }

    /// <summary>The name NUnit shows for a fixture or case on this peer.</summary>
    public override string ToString() => Name;
}
