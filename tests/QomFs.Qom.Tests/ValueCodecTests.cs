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
    public void Integers(string text, string type, string json) => Assert.That(Parse(text, type), Is.EqualTo(json));

    [TestCase("256", "uint8", "out of range")]
    [TestCase("-1", "uint32", "out of range")]
    [TestCase("-129", "int8", "out of range")]
    [TestCase("18446744073709551616", "uint64", "out of range")]
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
