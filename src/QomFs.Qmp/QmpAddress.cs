using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace QomFs.Qmp;

public enum QmpAddressKind { Unix, Tcp, Vsock, Libvirt }

/// <summary>
/// Where a monitor or guest agent listens: a unix socket path, <c>host:port</c>, <c>[v6addr]:port</c>
/// or <c>vsock:CID:PORT</c>; or a libvirt domain's monitor, <c>libvirt:DOMAIN</c> on libvirt's default URI or
/// <c>libvirt:URI#DOMAIN</c> (<c>libvirt:qemu:///system#web1</c>; a libvirt URI has no fragment, so the first
/// <c>#</c> ends it). Parsing follows QEMU's tools (two <c>:</c>-separated parts make TCP), except that an
/// existing file always wins, so a socket path that contains a colon still works.
/// </summary>
public sealed record QmpAddress(QmpAddressKind Kind, string Path, string Host, int Port, uint Cid)
{
    public const string LibvirtPrefix = "libvirt:";

    /// <summary>A libvirt address's connection URI; empty for libvirt's default (LIBVIRT_DEFAULT_URI, libvirt.conf).</summary>
    public string LibvirtUri { get; init; } = "";

    /// <summary>A libvirt address's domain name.</summary>
    public string Domain { get; init; } = "";

    public static QmpAddress Unix(string path) => new(QmpAddressKind.Unix, path, "", 0, 0);
    public static QmpAddress Tcp(string host, int port) => new(QmpAddressKind.Tcp, "", host, port, 0);
    public static QmpAddress Vsock(uint cid, int port) => new(QmpAddressKind.Vsock, "", "", port, cid);
    public static QmpAddress Libvirt(string uri, string domain) =>
        new(QmpAddressKind.Libvirt, "", "", 0, 0) { LibvirtUri = uri, Domain = domain };

    /// <summary>Whether <paramref name="path"/> is a unix socket, or a symbolic link to one: something a unix address may name.</summary>
    public static bool IsUnixSocket(string path) => LibC.IsSocket(path, followLinks: true);

    /// <exception cref="FormatException">the text is not an address; the message says why.</exception>
    public static QmpAddress Parse(string text)
    {
        if (string.IsNullOrEmpty(text)) throw new FormatException("the address is empty");
        if (File.Exists(text) || Directory.Exists(text)) return Unix(text);

        if (text.StartsWith(LibvirtPrefix, StringComparison.Ordinal)) return ParseLibvirt(text);

        if (text.StartsWith("vsock:", StringComparison.Ordinal))
        {
            var parts = text.Split(':');
            if (parts.Length != 3 || !uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var cid))
                throw new FormatException($"'{text}' is not a vsock address (vsock:CID:PORT)");
            return Vsock(cid, ParsePort(parts[2], text));
        }

        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0) throw new FormatException($"'{text}' is not an address ([v6addr]:port)");
            var host = text[1..close];
            if (!IPAddress.TryParse(host, out var ip) || ip.AddressFamily != AddressFamily.InterNetworkV6)
                throw new FormatException($"'{host}' in '{text}' is not an IPv6 address");
            return Tcp(host, ParsePort(text[(close + 2)..], text));
        }

        var colon = text.Split(':');
        if (colon.Length == 2 && colon[0].Length > 0 && !colon[0].Contains('/'))
            return Tcp(colon[0], ParsePort(colon[1], text));
        return Unix(text);
    }

    static QmpAddress ParseLibvirt(string text)
    {
        var rest = text[LibvirtPrefix.Length..];
        var hash = rest.IndexOf('#');
        var (uri, domain) = hash < 0 ? ("", rest) : (rest[..hash], rest[(hash + 1)..]);
        if (domain.Length == 0 || (hash < 0 && domain.Contains("://")))
            throw new FormatException($"'{text}' names no domain (libvirt:DOMAIN or libvirt:URI#DOMAIN)");
        if (hash >= 0 && !uri.Contains(':'))
            throw new FormatException($"'{uri}' in '{text}' is not a libvirt URI (e.g. qemu:///system)");
        return Libvirt(uri, domain);
    }

    static int ParsePort(string port, string whole)
    {
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
            throw new FormatException($"'{port}' in '{whole}' is not a port number (1-65535)");
        return p;
    }

    public override string ToString() => Kind switch
    {
        QmpAddressKind.Unix => Path,
        QmpAddressKind.Tcp when Host.Contains(':') => $"[{Host}]:{Port}",
        QmpAddressKind.Tcp => $"{Host}:{Port}",
        QmpAddressKind.Libvirt when LibvirtUri.Length == 0 => $"{LibvirtPrefix}{Domain}",
        QmpAddressKind.Libvirt => $"{LibvirtPrefix}{LibvirtUri}#{Domain}",
        _ => $"vsock:{Cid}:{Port}",
    };
}
