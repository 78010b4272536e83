using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace QomFs.Qom;

/// <summary>
/// The one conversion between property values and text, shared by qom-get/qom-set and the filesystem.
/// Value → text: a string prints raw, anything else as compact JSON, always with one newline.
/// Text → value: steered by the property's type from qom-list.
/// </summary>
public static class ValueCodec
{
    static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The text of a value given as JSON, with its newline, as UTF-8.</summary>
    public static byte[] Format(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        var output = new ArrayBufferWriter<byte>(json.Length + 1);
        if (reader.TokenType == JsonTokenType.String && TryGetString(ref reader, out var s))
            output.Write(Encoding.UTF8.GetBytes(s));
        else
            WriteCompact(json, output);
        output.Write("\n"u8);
        return output.WrittenSpan.ToArray();
    }

    public static string FormatText(ReadOnlySpan<byte> json) => Encoding.UTF8.GetString(Format(json));

    static bool TryGetString(ref Utf8JsonReader reader, out string value)
    {
        try { value = reader.GetString()!; return true; }
        catch (InvalidOperationException) { value = ""; return false; } // a lone surrogate: keep its JSON escape as QEMU sent it
    }

    /// <summary>Re-serialises JSON without whitespace (QEMU pads its output), keeping number texts as they are.</summary>
    public static void WriteCompact(ReadOnlySpan<byte> json, IBufferWriter<byte> output)
    {
        var reader = new Utf8JsonReader(json);
        using var w = new Utf8JsonWriter(output, Compact);
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject: w.WriteStartObject(); break;
                case JsonTokenType.EndObject: w.WriteEndObject(); break;
                case JsonTokenType.StartArray: w.WriteStartArray(); break;
                case JsonTokenType.EndArray: w.WriteEndArray(); break;
                case JsonTokenType.PropertyName: w.WritePropertyName(reader.GetString()!); break;
                case JsonTokenType.String:
                    if (TryGetString(ref reader, out var value)) w.WriteStringValue(value);
                    else w.WriteRawValue(json.Slice((int)reader.TokenStartIndex, reader.ValueSpan.Length + 2), skipInputValidation: true);
                    break;
                case JsonTokenType.Number: w.WriteRawValue(reader.ValueSpan, skipInputValidation: true); break;
                case JsonTokenType.True: w.WriteBooleanValue(true); break;
                case JsonTokenType.False: w.WriteBooleanValue(false); break;
                case JsonTokenType.Null: w.WriteNullValue(); break;
            }
        }
    }

    /// <summary>Converts written bytes to the JSON value for a property; they must be UTF-8.</summary>
    /// <exception cref="QomValueException">the text does not fit the type.</exception>
    public static byte[] Parse(ReadOnlySpan<byte> text, string type, string propertyName)
    {
        string s;
        try { s = StrictUtf8.GetString(text); }
        catch (DecoderFallbackException) { throw Invalid(propertyName, type, "the value is not valid UTF-8 text"); }
        return Parse(s, type, propertyName);
    }

    /// <summary>Converts text to the JSON value for a property of the given QOM type.</summary>
    /// <exception cref="QomValueException">the text does not fit the type.</exception>
    public static byte[] Parse(string text, string type, string propertyName)
    {
        if (text.EndsWith('\n')) text = text[..^1];
        if (type is "str" or "string" || QomProperty.KindOf(type) == QomPropertyKind.Link) return JsonString(text);
        // A list or an object is JSON whatever the type says: a few list properties are typed by their items
        // (memory backends' host-nodes is "int" and holds a list), and what cat printed must be accepted back.
        var structured = text.TrimStart() is ['[' or '{', ..];
        if (type == "bool" && !structured) return ParseBool(text.Trim(), type, propertyName);
        if (IntegerRange(type) is var (min, max) && !structured) return ParseInteger(text.Trim(), type, propertyName, min, max);
        return ParseJson(text, type, propertyName);
    }

    static byte[] JsonString(string text)
    {
        var output = new ArrayBufferWriter<byte>(text.Length + 2);
        using (var w = new Utf8JsonWriter(output, Compact)) w.WriteStringValue(text);
        return output.WrittenSpan.ToArray();
    }

    static byte[] ParseBool(string text, string type, string name) => text.ToLowerInvariant() switch
    {
        "true" or "on" or "yes" or "1" => "true"u8.ToArray(),
        "false" or "off" or "no" or "0" => "false"u8.ToArray(),
        _ => throw Invalid(name, type, $"'{Shorten(text)}' is not a boolean (true/false, on/off, yes/no, 1/0)"),
    };

    // QEMU names most integer types as its visitors do (uint64), a few as in C (uint64_t: the x86 machine's
    // bus-lock-ratelimit); both mean the same range.
    static (Int128 Min, Int128 Max)? IntegerRange(string type) => (type.EndsWith("_t", StringComparison.Ordinal) ? type[..^2] : type) switch
    {
        "int8" => (sbyte.MinValue, sbyte.MaxValue),
        "int16" => (short.MinValue, short.MaxValue),
        "int32" => (int.MinValue, int.MaxValue),
        "int" or "int64" => (long.MinValue, long.MaxValue),
        "uint8" => (0, byte.MaxValue),
        "uint16" => (0, ushort.MaxValue),
        "uint32" => (0, uint.MaxValue),
        "uint" or "uint64" or "size" => (0, ulong.MaxValue),
        _ => null,
    };

    static byte[] ParseInteger(string text, string type, string name, Int128 min, Int128 max)
    {
        var negative = text.StartsWith('-');
        var digits = negative || text.StartsWith('+') ? text[1..] : text;
        var hex = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        var body = hex ? digits[2..] : digits;
        var ok = body.Length is > 0 and <= 32 && body.All(hex ? char.IsAsciiHexDigit : char.IsAsciiDigit);
        var value = Int128.Zero;
        if (ok && hex)
        {
            ok = UInt128.TryParse(body, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var u) && u <= (UInt128)Int128.MaxValue;
            if (ok) value = (Int128)u;
        }
        else if (ok) ok = Int128.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (!ok) throw Invalid(name, type, $"'{Shorten(text)}' is not an integer (decimal or 0x hex)");
        if (negative) value = -value;
        if (value < min || value > max) throw Invalid(name, type, $"{text} is out of range ({min}..{max})");
        return Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));
    }

    // Any other type is JSON. A bare word that is not JSON (an enum value such as `bind`) is taken as a string, so that
    // `echo bind > policy` works; text that starts like JSON structure must be valid JSON.
    static byte[] ParseJson(string text, string type, string name)
    {
        var trimmed = text.Trim();
        try
        {
            var bytes = Encoding.UTF8.GetBytes(trimmed);
            var reader = new Utf8JsonReader(bytes);
            reader.Read();
            reader.Skip();
            reader.Read(); // refuses any text after the one value itself (JsonException), so nothing is left to check
            var output = new ArrayBufferWriter<byte>(bytes.Length);
            WriteCompact(bytes, output);
            return output.WrittenSpan.ToArray();
        }
        catch (JsonException e)
        {
            if (trimmed.Length > 0 && trimmed[0] is not ('{' or '[' or '"')) return JsonString(trimmed);
            throw Invalid(name, type, $"not valid JSON: {e.Message.Split(" Path:")[0].Split(" LineNumber:")[0]}");
        }
    }

    static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    static QomValueException Invalid(string name, string type, string reason) => new($"{name} ({type}): {reason}");
}
