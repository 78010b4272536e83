namespace QomFs.Host;

/// <summary>Where a host mount finds its VMs: a libvirt connection's running domains, or a directory of QMP sockets.</summary>
public abstract record HostSource
{
    /// <param name="Uri">libvirt's URI; empty for its default.</param>
    public sealed record Libvirt(string Uri) : HostSource
    {
        public override string ToString() => Uri.Length == 0 ? "libvirt's domains" : $"the domains of {Uri}";
    }

    public sealed record SocketDirectory(string Path) : HostSource
    {
        public override string ToString() => $"the QMP sockets in {Path}";
    }
}
