using System.Text;

namespace QomFs.Qom.Tests;

public class ValueCodecTests
{
    static string Format(string json) => ValueCodec.FormatText(Encoding.UTF8.GetBytes(json));
    static string Parse(string text, string type) => Encoding.UTF8.GetString(ValueCodec.Parse(text, type, "p"));

    [TestCase("\"hello world\"", "hello world\n")]
    [TestCase("\"\"", "\n")]
    [TestCase("\"tab\\there \\u00e9\"", "tab\there é\n")]
    [TestCase("true", "true\n")]
    [TestCase("42", "42\n")]
    [TestCase("-1.5e3", "-1.5e3\n")]
    [TestCase("null", "null\n")]
    [TestCase("{\"a\": 1, \"b\": [1, 2, {\"c\": \"x<y\"}]}", "{\"a\":1,\"b\":[1,2,{\"c\":\"x<y\"}]}\n")]
    [TestCase("[]", "[]\n")]
    public void ValueToText(string json, string text) => Assert.That(Format(json), Is.EqualTo(text));

    [TestCase("true", "true")]
    [TestCase("on\n", "true")]
    [TestCase("YES", "true")]
    [TestCase("1", "true")]
    [TestCase("off", "false")]
    [TestCase("no\n", "false")]
    [TestCase("0", "false")]
    public void Bools(string text, string json) => Assert.That(Parse(text, "bool"), Is.EqualTo(json));

    [TestCase("42\n", "int", "42")]
    [TestCase("-42", "int64", "-42")]
    [TestCase("0x10", "uint32", "16")]
    [TestCase("0XfF", "uint8", "255")]
    [TestCase("18446744073709551615", "uint64", "18446744073709551615")]
    [TestCase("0xffffffffffffffff", "size", "18446744073709551615")]
    [TestCase("-128", "int8", "-128")]
    [TestCase("+7", "uint16", "7")]
    [TestCase("0x10", "uint64_t", "16")]
    [TestCase("-5", "int32_t", "-5")]
    [TestCase("[0, 1]", "int", "[0,1]")]
    [TestCase(" []\n", "uint16", "[]")]
    public void Integers(string text, string type, string json) => Assert.That(Parse(text, type), Is.EqualTo(json));

    [TestCase("256", "uint8", "out of range")]
    [TestCase("-1", "uint32", "out of range")]
    [TestCase("-129", "int8", "out of range")]
    [TestCase("18446744073709551616", "uint64", "out of range")]
    [TestCase("-1", "uint64_t", "out of range")]
    [TestCase("9223372036854775808", "int", "out of range")]
    [TestCase("1.5", "int", "not an integer")]
    [TestCase("twelve", "uint32", "not an integer")]
    [TestCase("0x", "uint32", "not an integer")]
    [TestCase("", "int", "not an integer")]
    [TestCase("maybe", "bool", "not a boolean")]
    [TestCase("{\"a\":", "BootConfiguration", "not valid JSON")]
    [TestCase("[1,", "int64List", "not valid JSON")]
    [TestCase("", "BootConfiguration", "not valid JSON")]
    public void RejectsNamingPropertyTypeAndReason(string text, string type, string reason)
    {
        var e = Assert.Throws<QomValueException>(() => ValueCodec.Parse(text, type, "prop"));
        Assert.That(e!.Message, Does.StartWith($"prop ({type}): ").And.Contain(reason));
    }

    [TestCase("hello\n", "str", "\"hello\"")]
    [TestCase("  spaces kept  ", "string", "\"  spaces kept  \"")]
    [TestCase("two\nlines\n", "str", "\"two\\nlines\"")]
    [TestCase("/machine/peripheral/x", "link<pci-device>", "\"/machine/peripheral/x\"")]
    [TestCase("{ \"order\" : \"c\" }\n", "BootConfiguration", "{\"order\":\"c\"}")]
    [TestCase("bind\n", "HostMemPolicy", "\"bind\"")]
    [TestCase("\"bind\"", "HostMemPolicy", "\"bind\"")]
    [TestCase("12", "number", "12")]
    public void TextToValue(string text, string type, string json) => Assert.That(Parse(text, type), Is.EqualTo(json));

    [Test]
    public void OnlyOneTrailingNewlineIsIgnored() => Assert.That(Parse("a\n\n", "str"), Is.EqualTo("\"a\\n\""));

    [Test]
    public void InvalidUtf8IsRejected()
    {
        var e = Assert.Throws<QomValueException>(() => ValueCodec.Parse(new byte[] { 0xff, 0xfe, 0x00 }, "str", "name"));
        Assert.That(e!.Message, Does.Contain("UTF-8"));
    }

    [Test]
    public void AStringRoundTripsThroughTheCodec()
    {
        var text = "quote \" backslash \\ unicode ü\n";
        var json = ValueCodec.Parse(text, "str", "p");
        Assert.That(ValueCodec.FormatText(json), Is.EqualTo(text));
    }
}

public class ValueCodecEdgeTests
{
    static string Format(string json) => ValueCodec.FormatText(Encoding.UTF8.GetBytes(json));
    static string Parse(string text, string type) => Encoding.UTF8.GetString(ValueCodec.Parse(text, type, "p"));

    // A lone surrogate has no UTF-8: the file shows the JSON escape QEMU sent, alone or inside structure, never a crash.
    [TestCase("\"\\ud800\"", "\"\\ud800\"\n")]
    [TestCase("[ \"\\udc00x\", \"\\u00e9\" ]", "[\"\\udc00x\",\"\u00e9\"]\n")]
    public void ALoneSurrogateStaysEscaped(string json, string text) => Assert.That(Format(json), Is.EqualTo(text));

    static string Reason(string text, string type)
    {
        var e = Assert.Throws<QomValueException>(() => ValueCodec.Parse(text, type, "p"))!;
        Assert.That(e.Message, Does.StartWith($"p ({type}): "));
        return e.Message[$"p ({type}): ".Length..];
    }

    // Value → text: numbers keep QEMU's text, whitespace goes, strings inside structure stay JSON-escaped but
    // readable (no \u escapes for non-ASCII or HTML characters).
    [TestCase("1.0", "1.0\n")]
    [TestCase("1E5", "1E5\n")]
    [TestCase("-0", "-0\n")]
    [TestCase("18446744073709551615", "18446744073709551615\n")]
    [TestCase("[ 1 ,\n 2 ]", "[1,2]\n")]
    [TestCase("\"two\\nlines\"", "two\nlines\n")]
    [TestCase("\"ends in a newline\\n\"", "ends in a newline\n\n")]
    [TestCase("[\"é <&> \\\"q\\\" \\\\\"]", "[\"é <&> \\\"q\\\" \\\\\"]\n")]
    [TestCase("[\"\\u0001\"]", "[\"\\u0001\"]\n")]
    [TestCase("{\"k\\\"ey\": {}}", "{\"k\\\"ey\":{}}\n")]
    public void ValueToText(string json, string text) => Assert.That(Format(json), Is.EqualTo(text));

    [TestCase(" 42 \n", "int", "42")]
    [TestCase("-0", "int", "0")]
    [TestCase("-0", "uint8", "0")]
    [TestCase("-0x10", "int32", "-16")]
    [TestCase("+0x10", "uint16", "16")]
    [TestCase("0x7f", "int8", "127")]
    [TestCase("-9223372036854775808", "int64", "-9223372036854775808")]
    [TestCase("9223372036854775807", "int", "9223372036854775807")]
    [TestCase("-2147483648", "int32", "-2147483648")]
    [TestCase("4294967295", "uint32", "4294967295")]
    [TestCase("65535", "uint16", "65535")]
    [TestCase("00000000000000000000000000000042", "uint8", "42")]
    public void IntegersAtTheEdges(string text, string type, string json) => Assert.That(Parse(text, type), Is.EqualTo(json));

    [TestCase("-9223372036854775809", "int64", "-9223372036854775809 is out of range (-9223372036854775808..9223372036854775807)")]
    [TestCase("2147483648", "int32", "2147483648 is out of range (-2147483648..2147483647)")]
    [TestCase("65536", "uint16", "65536 is out of range (0..65535)")]
    [TestCase("0x80", "int8", "0x80 is out of range (-128..127)")]
    [TestCase("-0x1", "size", "-0x1 is out of range (0..18446744073709551615)")]
    public void OutOfRangeSaysTheRange(string text, string type, string reason) => Assert.That(Reason(text, type), Is.EqualTo(reason));

    // Not numbers at all, or more than 32 digits (zeros too): never "out of range" for a huge text.
    [TestCase("--1")]
    [TestCase("+-1")]
    [TestCase("-")]
    [TestCase("0x-1")]
    [TestCase("1_000")]
    [TestCase("1 2")]
    [TestCase("1e3")]
    [TestCase("\u0663")]
    [TestCase("100000000000000000000000000000000")]
    [TestCase("0xffffffffffffffffffffffffffffffff")]
    public void NotAnInteger(string text) =>
        Assert.That(Reason(text, "uint64"), Is.EqualTo($"'{text}' is not an integer (decimal or 0x hex)"));

    [TestCase("  On \n", "true")]
    [TestCase("FALSE", "false")]
    [TestCase("Yes", "true")]
    public void BoolsIgnoreCaseAndSpace(string text, string json) => Assert.That(Parse(text, "bool"), Is.EqualTo(json));

    [TestCase("")]
    [TestCase("2")]
    [TestCase("y")]
    [TestCase("true false")]
    public void NotABoolean(string text) => Assert.That(Reason(text, "bool"), Does.StartWith($"'{text}' is not a boolean"));

    [Test]
    public void ALongRejectedTextIsShortened()
    {
        var text = new string('x', 50);
        Assert.That(Reason(text, "bool"), Does.StartWith($"'{new string('x', 40)}…' is not a boolean"));
    }

    [TestCase("", "str", "\"\"")]
    [TestCase("\n", "str", "\"\"")]
    [TestCase("\r\n", "str", "\"\\r\"")]
    [TestCase("é <&>", "str", "\"é <&>\"")]
    [TestCase("tab\tq\"b\\", "str", "\"tab\\tq\\\"b\\\\\"")]
    [TestCase("\n", "link<cpu>", "\"\"")]
    public void StringsAreTakenAsWritten(string text, string type, string json) => Assert.That(Parse(text, type), Is.EqualTo(json));

    [TestCase("1.50", "number", "1.50")]
    [TestCase(" 1e2 \n", "number", "1e2")]
    [TestCase("true", "OnOffAuto", "true")]
    [TestCase("null", "X", "null")]
    [TestCase("  bind  ", "HostMemPolicy", "\"bind\"")]
    [TestCase("é", "X", "\"é\"")]
    [TestCase("1 2", "X", "\"1 2\"")]
    [TestCase("[ \"<a>\" ,1 ]", "strList", "[\"<a>\",1]")]
    public void OtherTypesAreJsonOrABareWord(string text, string type, string json) => Assert.That(Parse(text, type), Is.EqualTo(json));

    // Text that starts like JSON structure or a JSON string must be JSON: a typing error is not sent as a string.
    [TestCase("{} x", "not valid JSON: 'x' is invalid after a single JSON value")]
    [TestCase("\"unterminated", "not valid JSON")]
    [TestCase("[1 2]", "not valid JSON")]
    [TestCase("  ", "not valid JSON")]
    public void StructureMustBeValidJson(string text, string reason) => Assert.That(Reason(text, "X"), Does.StartWith(reason));

    [Test]
    public void AStructuredValueRoundTripsThroughTheCodec()
    {
        var json = ValueCodec.Parse("{ \"a\" : [1.0, \"é\\n\"] }", "X", "p");
        Assert.That(ValueCodec.FormatText(json), Is.EqualTo("{\"a\":[1.0,\"é\\n\"]}\n"));
        Assert.That(ValueCodec.Parse(ValueCodec.FormatText(json), "X", "p"), Is.EqualTo(json));
    }
}
