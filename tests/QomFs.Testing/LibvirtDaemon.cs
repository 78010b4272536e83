using System.Diagnostics;

namespace QomFs.Testing;

/// <summary>
/// The libvirtd the tests talk to at <see cref="Uri"/>: one that answers already, else one this test run starts and
/// stops (by PID, at <see cref="StopIfStarted"/> or when the test process exits). There is no systemd here to start it.
/// The one it starts reads a private configuration: it runs in a mount namespace of its own where a temp directory is
/// bound over /etc/libvirt, holding the qemu.conf a TCG domain needs without KVM, cgroups or a security driver (as root,
/// libvirt 9.0 reads qemu.conf from /etc/libvirt only). So the machine's own libvirt configuration is never touched,
/// and the domains the tests define are written to the temp directory. QEMU's output goes to a file
/// (stdio_handler = "file"), so virtlogd is not needed.
/// </summary>
public static class LibvirtDaemon
{
    public const string Uri = "qemu:///system";
    const string Socket = "/run/libvirt/libvirt-sock";

    const string QemuConf = """
        user = "root"
        group = "root"
        security_driver = "none"
        cgroup_controllers = [ ]
        stdio_handler = "file"
        """;

    static readonly Lock Gate = new();
    static Process? _started;
    static string? _configDirectory;
    static string? _failure;

    // A test run that ends without StopIfStarted (an assembly without the set-up fixture) still stops its daemon.
    static LibvirtDaemon() => AppDomain.CurrentDomain.ProcessExit += (_, _) => StopIfStarted();

    /// <summary>Makes sure a libvirtd answers at <see cref="Uri"/>; a missing libvirt skips, or under CI fails, the test.</summary>
    public static void Ensure()
    {
        Needs.Check(Needs.Libvirt);
        Require.Root("libvirtd's system instance runs as root");
        var libvirtd = Require.Tool("libvirtd", "the libvirt tests run against a real libvirtd");
        Require.Tool("virsh", "the libvirt tests set up their domains with virsh");
        lock (Gate)
        {
            if (_failure is not null) Assert.Fail(_failure);
            if (Answers()) return;
            if (_started is { HasExited: false }) Assert.Fail("the libvirtd this run started no longer answers");
            Start(libvirtd);
        }
    }

    /// <summary>Whether a libvirtd serves <see cref="Uri"/> now.</summary>
    public static bool Answers() =>
        File.Exists(Socket) && ProcessRunner.Run("virsh", ["-c", Uri, "version"], TimeSpan.FromSeconds(30)).ExitCode == 0;

    static void Start(string libvirtd)
    {
        _configDirectory = Path.Combine("/tmp", $"qomfs-libvirt-{Environment.ProcessId}");
        Directory.CreateDirectory(_configDirectory);
        File.WriteAllText(Path.Combine(_configDirectory, "qemu.conf"), QemuConf + "\n");
        Directory.CreateDirectory("/run/libvirt");
        Directory.CreateDirectory("/var/log/libvirt/qemu");
        var log = Path.Combine(_configDirectory, "libvirtd.log");
        // unshare execs the shell, which execs libvirtd: the PID started is libvirtd's own, the one to stop.
        var psi = new ProcessStartInfo(Require.Tool("unshare", "libvirtd runs with a private /etc/libvirt"))
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
        };
        foreach (var a in new[] { "--mount", "--propagation", "private", "/bin/sh", "-c",
                     $"mount --bind '{_configDirectory}' /etc/libvirt && exec '{libvirtd}' -p '{_configDirectory}/libvirtd.pid' >'{log}' 2>&1" })
            psi.ArgumentList.Add(a);
        _started = Process.Start(psi)!;
        // The first start probes QEMU's capabilities (seconds); later ones read them from /var/cache/libvirt.
        var clock = Stopwatch.StartNew();
        while (!Answers())
        {
            if (_started.HasExited || clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                _failure = $"libvirtd did not come up (exit {(_started.HasExited ? _started.ExitCode : "none, still running")}): " +
                           string.Join(" | ", File.ReadLines(log).Where(l => l.Contains(": error :")).TakeLast(3));
                StopIfStarted();
                Assert.Fail(_failure);
            }
            Thread.Sleep(50);
        }
    }

    /// <summary>Stops the libvirtd this run started, if any, by its PID; one found running is left alone.</summary>
    public static void StopIfStarted()
    {
        lock (Gate)
        {
            if (_started is null) return;
            Terminate(_started);
            _started = null;
            try { if (_configDirectory is not null) Directory.Delete(_configDirectory, recursive: true); }
            catch (IOException) { }
        }
    }

    /// <summary>SIGTERM, so that libvirtd closes its clients' connections and removes its sockets; SIGKILL if it lingers.</summary>
    static void Terminate(Process daemon)
    {
        try
        {
            if (!daemon.HasExited && kill(daemon.Id, 15) == 0 && !daemon.WaitForExit(10_000))
            {
                daemon.Kill();
                daemon.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException) { }
        daemon.Dispose();
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int kill(int pid, int sig);

    /// <summary>
    /// Restarts the libvirtd this run started (SIGTERM, then a new one), for the fault tests; its running domains
    /// survive it, as on a real host. Fails the test when the daemon was not started by this run.
    /// </summary>
    public static void Restart()
    {
        lock (Gate)
        {
            if (_started is null) Assert.Fail("only a libvirtd this test run started may be restarted");
            var libvirtd = Require.Tool("libvirtd", "restart");
            Terminate(_started!);
            _started = null;
            Start(libvirtd);
        }
    }
}
