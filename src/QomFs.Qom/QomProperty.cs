using System.Text.Json;
using System.Text.Json.Serialization;

namespace QomFs.Qom;

public enum QomPropertyKind
{
    /// <summary><c>child&lt;T&gt;</c>: an object owned by this one; a directory.</summary>
    Child,
    /// <summary><c>link&lt;T&gt;</c>: a reference to another object; a symlink.</summary>
    Link,
    /// <summary>Anything else: a value; a file.</summary>
    Value,
}

/// <summary>One entry of <c>qom-list</c>: QAPI's ObjectPropertyInfo.</summary>
public sealed record QomProperty
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("type")] public required string Type { get; init; }
    [JsonPropertyName("description")] public string? Description { get; init; }
    [JsonPropertyName("default-value")] public JsonElement? DefaultValue { get; init; }

    [JsonIgnore] public QomPropertyKind Kind => KindOf(Type);

    public static QomPropertyKind KindOf(string type) =>
        type.StartsWith("child<", StringComparison.Ordinal) && type.EndsWith('>') ? QomPropertyKind.Child
        : type.StartsWith("link<", StringComparison.Ordinal) && type.EndsWith('>') ? QomPropertyKind.Link
        : QomPropertyKind.Value;
}

/// <summary>One entry of <c>qom-list-get</c> (QEMU 10.1+): a property with its value, absent when unreadable.</summary>
public sealed record QomPropertyValue
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("type")] public required string Type { get; init; }
    [JsonPropertyName("value")] public JsonElement? Value { get; init; }
}

public sealed record QomObjectValues
{
    [JsonPropertyName("properties")] public required QomPropertyValue[] Properties { get; init; }
}

[JsonSerializable(typeof(QomProperty[]))]
[JsonSerializable(typeof(QomObjectValues[]))]
internal sealed partial class QomJsonContext : JsonSerializerContext;
