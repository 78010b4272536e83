using QomFs.Testing;

namespace QomFs.Cli.Tests.Integration;

/// <summary>--version, the man pages, make install/uninstall and make deb, on the published binary.</summary>
[Category(Needs.Binary)]
public class PackagingTests
{
    static readonly string[] Names = ["qomfs", "qom", "qom-get", "qom-set", "qom-list", "qom-tree", "qom-fuse", "qmp-shell", "qemu-ga-client"];
    static readonly string[] Pages = ["qomfs", "qom-get", "qom-set", "qom-list", "qom-tree", "qom-fuse", "qmp-shell", "qemu-ga-client"];

    static string Version => File.ReadAllText(Path.Combine(Qomfs.RepoRoot, "VERSION")).Trim();

    static ProcessResult Sh(string script, TimeSpan? deadline = null) =>
        ProcessRunner.Run("bash", ["-c", script], deadline ?? TimeSpan.FromSeconds(120), workingDirectory: Qomfs.RepoRoot);

    [TestCaseSource(nameof(Names))]
    public void VersionSaysQomFsAndTheLoadedLibfuse(string name)
    {
        var r = Qomfs.Run(name, ["--version"]);
        var lines = r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That((r.ExitCode, r.StdErr), Is.EqualTo((0, "")));
        Assert.That(lines, Has.Length.EqualTo(2));
        Assert.That(lines[0], Does.StartWith($"{name} (QomFs) {Version}+"));
        Assert.That(lines[1], Does.Match(@"^libfuse 3\.\d+\.\d+$"));
    }

    [Test]
    public void ManPagesRenderWithoutWarningsAndCarryEveryOptionOfTheHelp()
    {
        var dir = TempPaths.NewDirectory("man");
        var made = Sh($"scripts/make-man.sh '{Qomfs.Binary}' '{dir}'");
        Assert.That(made.ExitCode, Is.Zero, made.StdErr);
        foreach (var page in Pages)
        {
            var file = Path.Combine(dir, page + ".1");
            var warnings = Sh($"MANWIDTH=80 man --warnings -l '{file}' 2>&1 >/dev/null; groff -ww -man -z '{file}' 2>&1");
            Assert.That(warnings.StdOut, Is.Empty, page);
            var rendered = Sh($"MANWIDTH=200 man -l '{file}'").StdOut;
            var help = Qomfs.Run(page, page == "qomfs" ? ["mount", "--help"] : ["--help"]).StdOut;
            foreach (var option in System.Text.RegularExpressions.Regex.Matches(help, @"(?<![\w-])--[a-z][a-z-]+").Select(m => m.Value).Distinct())
                Assert.That(rendered, Does.Contain(option), $"{page}(1) lacks {option}");
        }
        Assert.That(Sh($"MANWIDTH=200 man -l '{dir}/qomfs.1'").StdOut,
            Does.Contain("cache_ttl=SECONDS").And.Contain("QOMFS UMOUNT").And.Contain("Type=fuse.qomfs"));
    }

    [Test]
    public void InstallThenUninstallLeavesTheDestdirEmpty()
    {
        var dest = TempPaths.NewDirectory("dest");
        // -o build: the binary and pages are built already (bin/, artifacts/man), as make test's build left them.
        var r = Sh($"make -s -o build -o deps install DESTDIR='{dest}' PREFIX=/opt/q");
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        foreach (var path in new[] { "bin/qomfs", "bin/qom-get", "bin/qemu-ga-client", "share/man/man1/qomfs.1", "share/man/man1/qmp-shell.1",
                     "share/bash-completion/completions/qomfs", "share/bash-completion/completions/qom-get" })
            Assert.That(Path.Exists(Path.Combine(dest, "opt/q", path)), path);
        Assert.That(Qomfs.RunPath(Path.Combine(dest, "opt/q/bin/qom-tree"), "--version").StdOut, Does.StartWith("qom-tree (QomFs)"));

        r = Sh($"make -s uninstall DESTDIR='{dest}' PREFIX=/opt/q");
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        Assert.That(Directory.Exists(dest) ? Directory.GetFileSystemEntries(dest, "*", SearchOption.AllDirectories) : [], Is.Empty);
    }

    [Test]
    public void DebInstallsIntoAScratchRootRunsAndPurgesCleanly()
    {
        var r = Sh("scripts/make-deb.sh");
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        var deb = Path.Combine(Qomfs.RepoRoot, "artifacts", $"qomfs_{Version}_amd64.deb");
        Assert.That(Sh($"dpkg-deb -f '{deb}' Depends").StdOut.Trim(), Is.EqualTo("fuse3, libfuse3-3"));

        var root = TempPaths.NewDirectory("droot");
        Sh($"mkdir -p '{root}/var/lib/dpkg/info' '{root}/var/lib/dpkg/updates' && touch '{root}/var/lib/dpkg/status'");
        // The scratch root has no fuse3 of its own: the machine's satisfies the dependency.
        r = Sh($"dpkg --root='{root}' --force-depends -i '{deb}'");
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        foreach (var path in new[] { "usr/bin/qomfs", "usr/bin/qmp-shell", "usr/share/man/man1/qomfs.1.gz", "usr/share/bash-completion/completions/qom-set" })
            Assert.That(Path.Exists(Path.Combine(root, path)), path);
        var version = Qomfs.RunPath(Path.Combine(root, "usr/bin/qom-get"), "--version");
        Assert.That((version.ExitCode, version.StdOut), Is.EqualTo((0, Qomfs.Run("qom-get", ["--version"]).StdOut)));

        r = Sh($"dpkg --root='{root}' --purge qomfs");
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        var left = Directory.GetFileSystemEntries(root, "*", SearchOption.AllDirectories)
            .Where(p => !p.StartsWith(Path.Combine(root, "var"), StringComparison.Ordinal));
        Assert.That(left, Is.Empty);
        Assert.That(Sh($"dpkg --root='{root}' -l qomfs 2>&1").StdOut, Does.Not.Match(@"^ii\s+qomfs").IgnoreCase);
    }
}
