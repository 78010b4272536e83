namespace QomFs.Qom;

/// <summary>An object's properties by name, as qom-list (or qom-list-get) gave them.</summary>
public sealed class QomListing(QomProperty[] properties, bool described = true)
{
    readonly Dictionary<string, int> _index = properties.Index().ToDictionary(p => p.Item.Name, p => p.Index, StringComparer.Ordinal);
    // Under the lock: which values have been fetched since the object was listed, the first that has not, and
    // whether any has.
    readonly bool[] _fetched = new bool[properties.Length];
    int _unfetched;
    bool _anyFetched;

    public QomProperty[] Properties { get; } = properties;
    /// <summary>False when the listing came from qom-list-get, which gives no descriptions or default values.</summary>
    public bool Described { get; } = described;
    public QomProperty? Find(string name) => _index.TryGetValue(name, out var i) ? Properties[i] : null;

    /// <summary>
    /// Notes that a value is being fetched, and guesses which one its reader fetches next. A reader going through
    /// the object in the listing's order, as <c>find</c> and <c>grep -r</c> do (this is the first value not
    /// fetched since the object was listed, and another was before it), likely reads the next value not fetched
    /// yet: that one's name is returned. Null otherwise, so that a reader of one value per object guesses nothing.
    /// </summary>
    public string? Fetching(string name)
    {
        // A listing from qom-list-get brought its values: the few fetched one by one are those it could not read.
        if (!Described || !_index.TryGetValue(name, out var i)) return null;
        lock (_fetched)
        {
            _unfetched = NextUnfetched(_unfetched);
            var inOrder = i == _unfetched && _anyFetched;
            _fetched[i] = true;
            _anyFetched |= Properties[i].Kind == QomPropertyKind.Value;
            if (!inOrder) return null;
            var next = NextUnfetched(i + 1);
            return next < _fetched.Length ? Properties[next].Name : null;
        }
    }

    // The first value at or after index i not fetched yet; the listing's length if none.
    int NextUnfetched(int i)
    {
        while (i < _fetched.Length && (_fetched[i] || Properties[i].Kind != QomPropertyKind.Value)) i++;
        return i;
    }
}
