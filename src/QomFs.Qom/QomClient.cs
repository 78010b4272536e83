using System.Text.Json;
using QomFs.Qmp;

namespace QomFs.Qom;

/// <summary>The QOM commands of QMP, typed: qom-list, qom-get, qom-set, and qom-list-get where QEMU has it.</summary>
public sealed class QomClient(QmpClient qmp)
{
    // The first version that may have qom-list-get: QEMU 10.1 added it, and its development builds (10.0.50 on)
    // and release candidates (10.0.90 on) may have it.
    static readonly Version ListGetSince = new(10, 0, 50);

    // An older greeting settles it without a command; otherwise it is unknown until the first qom-list-get (a QEMU
    // that lacks it answers CommandNotFound).
    bool? _hasListGet = HasListGet(qmp);
    QmpClient _qmp = qmp;

    public QmpClient Qmp => Volatile.Read(ref _qmp);

    /// <summary>Goes on over a new connection (a QEMU that came back on the same socket, perhaps another version).</summary>
    public void UseConnection(QmpClient qmp)
    {
        _hasListGet = HasListGet(qmp);
        Volatile.Write(ref _qmp, qmp);
    }

    static bool? HasListGet(QmpClient qmp) => qmp.Greeting is { } g && g.Version < ListGetSince ? false : null;

    public async Task<QomProperty[]> ListAsync(string path, CancellationToken cancel = default)
    {
        var result = await Qmp.ExecuteAsync("qom-list", ListArguments(path), cancel: cancel);
        return Decode(result, QomJsonContext.Default.QomPropertyArray, "qom-list");
    }

    /// <summary>A property's value as the JSON QEMU returned.</summary>
    public Task<QmpResult> GetAsync(string path, string property, CancellationToken cancel = default) =>
        Qmp.ExecuteAsync("qom-get", GetArguments(path, property), cancel: cancel);

    // One writer per command, for the command and its anticipation alike: a guess is used only if its bytes are the same.
    static Action<Utf8JsonWriter> ListArguments(string path) => w => w.WriteString("path"u8, path);

    static Action<Utf8JsonWriter> GetArguments(string path, string property) => w =>
    {
        w.WriteString("path"u8, path);
        w.WriteString("property"u8, property);
    };

    static Action<Utf8JsonWriter> ListGetArguments(IReadOnlyList<string> paths) => w =>
    {
        w.WriteStartArray("paths"u8);
        foreach (var p in paths) w.WriteStringValue(p);
        w.WriteEndArray();
    };

    /// <summary>
    /// Tells QMP (<see cref="QmpClient.Anticipate"/>) that the next command is likely to be the listing of an
    /// object with its values: <see cref="ListGetAsync"/> of it where QEMU has qom-list-get, else
    /// <see cref="ListAsync"/>. Nothing while it is not known which.
    /// </summary>
    public void AnticipateListing(string path)
    {
        if (_hasListGet == false) Qmp.Anticipate("qom-list", ListArguments(path));
        else if (_hasListGet == true) Qmp.Anticipate("qom-list-get", ListGetArguments([path]));
    }

    /// <summary>Tells QMP that the next command is likely to be <see cref="GetAsync"/> of this property.</summary>
    public void AnticipateGet(string path, string property) => Qmp.Anticipate("qom-get", GetArguments(path, property));

    /// <summary>Sets a property to a JSON value (see <see cref="ValueCodec.Parse(string,string,string)"/>).</summary>
    public Task SetAsync(string path, string property, byte[] jsonValue, CancellationToken cancel = default) =>
        Qmp.ExecuteAsync("qom-set", w =>
        {
            w.WriteString("path"u8, path);
            w.WriteString("property"u8, property);
            w.WritePropertyName("value"u8);
            w.WriteRawValue(jsonValue, skipInputValidation: true);
        }, cancel: cancel);

    /// <summary>
    /// Every property of each object with its value, in one command, or null on a QEMU without qom-list-get
    /// (before 10.1). A property whose getter fails comes without a value.
    /// </summary>
    public async Task<QomObjectValues[]?> ListGetAsync(IReadOnlyList<string> paths, CancellationToken cancel = default)
    {
        if (_hasListGet == false) return null;
        try
        {
            var result = await Qmp.ExecuteAsync("qom-list-get", ListGetArguments(paths), cancel: cancel);
            _hasListGet = true;
            return Decode(result, QomJsonContext.Default.QomObjectValuesArray, "qom-list-get");
        }
        catch (QmpCommandException e) when (e.ErrorClass == "CommandNotFound")
        {
            _hasListGet = false;
            return null;
        }
    }

    /// <summary>
    /// Splits <c>PATH.PROPERTY</c>, where both object and property names may hold dots (<c>pc.ram</c>, <c>sse4.2</c>):
    /// the candidate split points are tried right to left until one names an existing object that has that property.
    /// </summary>
    /// <returns>the object's path, the property, and the object's listing; null when no split matches.</returns>
    public async Task<(string Path, QomProperty Property, QomProperty[] Listing)?> ResolveDottedAsync(string dotted, CancellationToken cancel = default)
    {
        var slash = dotted.LastIndexOf('/');
        for (var dot = dotted.LastIndexOf('.'); dot > slash; dot = dot == 0 ? -1 : dotted.LastIndexOf('.', dot - 1))
        {
            var path = dotted[..dot];
            var name = dotted[(dot + 1)..];
            if (path.Length == 0 || name.Length == 0) continue;
            var listing = await TryListAsync(path, cancel);
            var property = listing?.FirstOrDefault(p => p.Name == name);
            if (property is not null) return (path, property, listing!);
        }
        return null;
    }

    /// <summary>The listing of an object, or null when there is no such object.</summary>
    public async Task<QomProperty[]?> TryListAsync(string path, CancellationToken cancel = default)
    {
        try { return await ListAsync(path, cancel); }
        catch (QmpCommandException e) when (e.ErrorClass is "DeviceNotFound" or "GenericError") { return null; }
    }

    static T Decode<T>(QmpResult result, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string command)
    {
        try
        {
            return result.Deserialize(type) ?? throw new QmpProtocolException($"{command} returned null");
        }
        catch (JsonException e)
        {
            throw new QmpProtocolException($"{command} returned an unexpected shape: {e.Message}", e);
        }
    }
}
