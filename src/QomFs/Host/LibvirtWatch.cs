using QomFs.Qmp;
using QomFs.Qmp.Libvirt;

namespace QomFs.Host;

/// <summary>
/// Keeps a host mount's directories equal to libvirt's running domains: lifecycle events while connected, and when
/// libvirtd restarts, a new connection (retried with a growing pause) whose listing replaces the old one.
/// </summary>
sealed class LibvirtWatch : IDisposable
{
    readonly string _uri;
    readonly HostFileSystem _host;
    readonly DaemonLog _log;
    readonly CancellationTokenSource _stop = new();
    readonly Lock _gate = new();
    LibvirtDomains? _domains;

    /// <exception cref="QmpConnectionException">libvirt cannot be reached at the start.</exception>
    public LibvirtWatch(string uri, HostFileSystem host, DaemonLog log)
    {
        _uri = uri;
        _host = host;
        _log = log;
        Watch(LibvirtDomains.Open(uri));
    }

    void Watch(LibvirtDomains domains)
    {
        domains.Started += name => _host.Add(name, QmpAddress.Libvirt(_uri, name));
        domains.Stopped += _host.Remove;
        domains.Lost += why => _ = ReconnectAsync(domains, why);
        lock (_gate) _domains = domains;
        foreach (var gone in _host.Names.Except(domains.Running).ToList()) _host.Remove(gone);
        foreach (var name in domains.Running) _host.Add(name, QmpAddress.Libvirt(_uri, name));
    }

    async Task ReconnectAsync(LibvirtDomains lost, string why)
    {
        _log.Write($"libvirt: {why}; reconnecting");
        // Not on libvirt's event thread, which delivered this: closing a connection there would wait for itself.
        await Task.Yield();
        lock (_gate)
        {
            if (_domains != lost) return;
            _domains = null;
        }
        lost.Dispose();
        var pause = TimeSpan.FromMilliseconds(100);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(pause, _stop.Token);
                Watch(LibvirtDomains.Open(_uri));
                _log.Write("libvirt: reconnected");
                return;
            }
            catch (QmpConnectionException) { pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(5).Ticks)); }
            catch (OperationCanceledException) { return; }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        lock (_gate) _domains?.Dispose();
    }
}
