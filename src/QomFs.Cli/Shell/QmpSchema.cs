using System.Text.Json;

namespace QomFs.Cli.Shell;

/// <summary>
/// The parts of <c>query-qmp-schema</c> that completion needs: a command's argument object, an object's members
/// (with the members of every variant of a union), member types, enum values. Type names in the introspection are
/// masked numbers; command, member and enum names are real.
/// </summary>
sealed class QmpSchema
{
    readonly Dictionary<string, JsonElement> _entities = new(StringComparer.Ordinal);

    public static QmpSchema Empty { get; } = new(default);

    public QmpSchema(JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Array) return;
        foreach (var e in schema.EnumerateArray())
            if (e.TryGetProperty("name", out var n) && n.GetString() is { } name)
                _entities[(e.TryGetProperty("meta-type", out var m) && m.GetString() == "command" ? "cmd:" : "") + name] = e;
    }

    /// <summary>The argument object type of a command, or null.</summary>
    public string? CommandArguments(string command) =>
        _entities.TryGetValue("cmd:" + command, out var c) && c.TryGetProperty("arg-type", out var t) ? t.GetString() : null;

    /// <summary>An object type's members (name → type), including those of all its variants; empty for a non-object.</summary>
    public IReadOnlyList<(string Name, string Type)> Members(string? type)
    {
        var result = new List<(string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Collect(ObjectOf(type), result, seen, depth: 0);
        return result;
    }

    void Collect(JsonElement? obj, List<(string, string)> into, HashSet<string> seen, int depth)
    {
        if (obj is not { } o || depth > 8) return;
        if (o.TryGetProperty("members", out var members))
            foreach (var m in members.EnumerateArray())
                if (m.TryGetProperty("name", out var n) && m.TryGetProperty("type", out var t) && seen.Add(n.GetString()!))
                    into.Add((n.GetString()!, t.GetString()!));
        if (o.TryGetProperty("variants", out var variants))
            foreach (var v in variants.EnumerateArray())
                if (v.TryGetProperty("type", out var vt)) Collect(ObjectOf(vt.GetString()), into, seen, depth + 1);
    }

    /// <summary>The type of a member path (a.b.c) under an object type, or null.</summary>
    public string? MemberType(string? type, IEnumerable<string> path)
    {
        foreach (var name in path)
        {
            var member = Members(type).FirstOrDefault(m => m.Name == name);
            if (member.Name is null) return null;
            type = member.Type;
        }
        return type;
    }

    /// <summary>Whether values of the type can be written with dotted keys (an object, or an alternate with one).</summary>
    public bool IsObject(string? type) => ObjectOf(type) is not null;

    /// <summary>The values an enum (or a boolean) can take; empty for other types.</summary>
    public IReadOnlyList<string> Values(string? type)
    {
        if (type is null || !_entities.TryGetValue(type, out var e)) return [];
        var meta = e.TryGetProperty("meta-type", out var m) ? m.GetString() : null;
        if (meta == "builtin" && e.TryGetProperty("json-type", out var j) && j.GetString() == "boolean") return ["true", "false"];
        if (meta != "enum") return [];
        if (e.TryGetProperty("values", out var values)) return [.. values.EnumerateArray().Select(v => v.GetString()!)];
        if (e.TryGetProperty("members", out var ms))
            return [.. ms.EnumerateArray().Select(v => v.GetProperty("name").GetString()!)];
        return [];
    }

    /// <summary>The element type of an array type.</summary>
    public string? ElementOf(string? type) =>
        type is not null && _entities.TryGetValue(type, out var e) && e.TryGetProperty("element-type", out var t) ? t.GetString() : null;

    /// <summary>For a union: the variant type chosen by a tag value.</summary>
    public string? VariantFor(string? type, string tagValue)
    {
        if (ObjectOf(type) is not { } o || !o.TryGetProperty("variants", out var variants)) return null;
        foreach (var v in variants.EnumerateArray())
            if (v.TryGetProperty("case", out var c) && c.GetString() == tagValue) return v.GetProperty("type").GetString();
        return null;
    }

    JsonElement? ObjectOf(string? type)
    {
        if (type is null || !_entities.TryGetValue(type, out var e)) return null;
        var meta = e.TryGetProperty("meta-type", out var m) ? m.GetString() : null;
        if (meta == "object") return e;
        if (meta == "alternate" && e.TryGetProperty("members", out var alternatives))
            foreach (var a in alternatives.EnumerateArray())
                if (a.TryGetProperty("type", out var t) && ObjectOf(t.GetString()) is { } o) return o;
        return null;
    }
}
