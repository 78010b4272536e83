using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace QomFs.Qmp;

/// <summary>The <c>return</c> value of a successful command, as the UTF-8 JSON the server sent.</summary>
public readonly struct QmpResult(ReadOnlyMemory<byte> json)
{
    public ReadOnlyMemory<byte> Json { get; } = json;

    public JsonElement ToElement() => QmpMessage.Element(Json);

    /// <summary>Deserializes with a source-generated type info, the AOT-clean way.</summary>
    public T? Deserialize<T>(JsonTypeInfo<T> typeInfo) => JsonSerializer.Deserialize(Json.Span, typeInfo);

    public override string ToString() => Encoding.UTF8.GetString(Json.Span);
}
