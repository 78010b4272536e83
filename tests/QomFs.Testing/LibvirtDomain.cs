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
    /// <param name="extraQmpSocket">a QMP socket of QEMU's own beside libvirt's monitor (for the bench's floor), or null.</param>
    public static LibvirtDomain Start(string prefix = "qomfs", string? extraQmpSocket = null)
    {
        LibvirtDaemon.Ensure();
        var name = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
        var domain = new LibvirtDomain(name, $"""
            <domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
              <name>{name}</name>
              <memory unit='MiB'>128</memory>
              <vcpu>1</vcpu>
              <os><type arch='x86_64' machine='q35'>hvm</type></os>
              <devices><emulator>{Require.Tool("qemu-system-x86_64", "libvirt runs Debian's QEMU")}</emulator></devices>
              {(extraQmpSocket is null ? "" : $"<qemu:commandline><qemu:arg value='-qmp'/><qemu:arg value='unix:{extraQmpSocket},server=on,wait=off'/></qemu:commandline>")}
            </domain>
            """);
        domain.Create();
        return domain;
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
