namespace QomFs.Testing;

/// <summary>
/// A throw-away transient TCG domain (q35, 128 MiB, no disk, started paused) on <see cref="LibvirtDaemon"/>, with a
/// name unique to the test. Transient: destroying it on dispose also undefines it. Set up with virsh, not with the
/// code under test.
/// </summary>
public sealed class LibvirtDomain : IDisposable
{
    public string Name { get; }

    /// <summary>The address the code under test takes: <c>libvirt:qemu:///system#NAME</c>.</summary>
    public string Address => $"libvirt:{LibvirtDaemon.Uri}#{Name}";

    readonly string _xml;

    LibvirtDomain(string name, string xml)
    {
        Name = name;
        _xml = xml;
    }

    /// <param name="prefix">the start of the name, e.g. the fixture's; a random tail makes it unique.</param>
    /// <param name="peer">which QEMU the domain runs; QEMU 7.2 unless told.</param>
    /// <param name="extraQmpSocket">a QMP socket of QEMU's own beside libvirt's monitor (for the bench's floor), or null.</param>
    public static LibvirtDomain Start(string prefix = "qomfs", QemuPeer? peer = null, string? extraQmpSocket = null)
    {
        LibvirtDaemon.Ensure();
        var emulator = Emulator(peer ?? QemuPeer.Qemu72);
        var name = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
        var domain = new LibvirtDomain(name, $"""
            <domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
              <name>{name}</name>
              <memory unit='MiB'>128</memory>
              <vcpu>1</vcpu>
              <os><type arch='x86_64' machine='q35'>hvm</type></os>
              <features><acpi/></features>
              <devices><emulator>{emulator}</emulator></devices>
              {(extraQmpSocket is null ? "" : $"<qemu:commandline><qemu:arg value='-qmp'/><qemu:arg value='unix:{extraQmpSocket},server=on,wait=off'/></qemu:commandline>")}
            </domain>
            """);
        domain.Create();
        return domain;
    }

    /// <summary>
    /// The program libvirt runs for a peer. libvirt takes one executable, so the modern root's QEMU gets a wrapper that
    /// runs it through its loader, as <see cref="QemuPeer"/> does. The wrapper also binds the root's module directory
    /// over the host's in a mount namespace of its own: QEMU 11 otherwise loads 7.2's modules where it has none of its
    /// own, and aborts (libvirt's capability probe lists every type, which loads them all). Rewritten only when it
    /// changes, so that libvirt's capability cache (keyed by the program's mtime) stays valid across runs.
    /// (<c>&lt;acpi/&gt;</c> above: without it libvirt 9.0 passes -no-acpi, which QEMU 11 no longer has.)
    /// </summary>
    static string Emulator(QemuPeer peer)
    {
        if (peer == QemuPeer.Qemu72) return Require.Tool("qemu-system-x86_64", "libvirt runs Debian's QEMU");
        var root = QemuPeer.ModernRoot;
        var why = $"the libvirt tests also run {peer}; run scripts/install-modern-qemu.sh";
        Require.File(Path.Combine(root, "usr/bin/qemu-system-x86_64"), why);
        var wrapper = Path.Combine(root, "..", $"libvirt-qemu-{peer.Major}.{peer.Minor}");
        var script = $"""
            #!/bin/sh
            # {peer} for libvirt (written by the QomFs tests' LibvirtDomain).
            exec unshare --mount --propagation private /bin/sh -c 'mount --bind {root}/usr/lib/x86_64-linux-gnu/qemu /usr/lib/x86_64-linux-gnu/qemu && exec {root}/lib64/ld-linux-x86-64.so.2 --library-path {root}/usr/lib/x86_64-linux-gnu:{root}/lib/x86_64-linux-gnu {root}/usr/bin/qemu-system-x86_64 -L {root}/usr/share/qemu -L {root}/usr/share/seabios "$@"' qemu "$@"

            """;
        if (!File.Exists(wrapper) || File.ReadAllText(wrapper) != script)
        {
            File.WriteAllText(wrapper, script);
            if (OperatingSystem.IsLinux()) File.SetUnixFileMode(wrapper, (UnixFileMode)0b111_101_101);
        }
        return Path.GetFullPath(wrapper);
    }

    /// <summary>Starts the domain (again, after <see cref="Destroy"/>): the same name, a new QEMU.</summary>
    public void Create()
    {
        var xml = Path.Combine(TempPaths.NewDirectory("domain"), "domain.xml");
        File.WriteAllText(xml, _xml);
        var created = Virsh("create", xml, "--paused");
        Directory.Delete(Path.GetDirectoryName(xml)!, recursive: true);
        if (created.ExitCode != 0) Assert.Fail($"virsh create {Name} failed: {created.StdErr.Trim()}");
    }

    /// <summary>One monitor command through virsh, for checking from outside; returns the reply's text.</summary>
    public string MonitorCommand(string json)
    {
        var r = Virsh("qemu-monitor-command", Name, json);
        if (r.ExitCode != 0) Assert.Fail($"virsh qemu-monitor-command {Name} failed: {r.StdErr.Trim()}");
        return r.StdOut.Trim();
    }

    public bool IsRunning => Virsh("domstate", Name).StdOut.Trim() is "running" or "paused";

    /// <summary>Stops the domain (virsh destroy); a transient domain is then gone.</summary>
    public void Destroy() => Virsh("destroy", Name);

    static ProcessResult Virsh(params string[] args) =>
        ProcessRunner.Run("virsh", ["-c", LibvirtDaemon.Uri, .. args], TimeSpan.FromSeconds(30));

    public void Dispose()
    {
        if (Virsh("domstate", Name).ExitCode == 0) Destroy();
        // QEMU's output, which libvirt keeps per domain name (stdio_handler = "file"): unique names would pile up.
        try { File.Delete($"/var/log/libvirt/qemu/{Name}.log"); } catch (IOException) { }
    }
}
