using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using QomFs.Cli.Shell;

namespace QomFs.Cli.Tests.Shell;

// In-process: the shell's input language alone, with nothing sent anywhere.
public class ShellSyntaxTests
{
    // Compact JSON as the shell's own output shows it: only what JSON itself requires is escaped.
    static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    static string Json(JsonNode? node) => node?.ToJsonString(Readable) ?? "null";

    static ShellSyntaxException Refused(Action parse) => Assert.Throws<ShellSyntaxException>(() => parse())!;

    // The tokenizer: whitespace splits, except inside quotes and JSON brackets; quotes stay in the token.
    [TestCase("query-status", new[] { "query-status" })]
    [TestCase("  a   b\tc ", new[] { "a", "b", "c" })]
    [TestCase("cmd a=\"x y\" b=2", new[] { "cmd", "a=\"x y\"", "b=2" })]
    [TestCase("cmd a='x y'", new[] { "cmd", "a='x y'" })]
    [TestCase("cmd a=\"x \\\" y\" b", new[] { "cmd", "a=\"x \\\" y\"", "b" })]
    [TestCase("cmd a='it\"s' b", new[] { "cmd", "a='it\"s'", "b" })]
    [TestCase("cmd b={\"c\": 1, \"d\": [1, 2]} e=3", new[] { "cmd", "b={\"c\": 1, \"d\": [1, 2]}", "e=3" })]
    [TestCase("cmd b=[[1 2] [3]] x", new[] { "cmd", "b=[[1 2] [3]]", "x" })]
    [TestCase("cmd a=] b", new[] { "cmd", "a=]", "b" })]
    [TestCase("cmd b={\"k\": \"}\"} c", new[] { "cmd", "b={\"k\": \"}\"}", "c" })]
    public void Tokenize(string line, string[] tokens) => Assert.That(ShellSyntax.Tokenize(line), Is.EqualTo(tokens));

    [TestCase("cmd a=\"open", "unterminated \" quote")]
    [TestCase("cmd a='open", "unterminated ' quote")]
    [TestCase("cmd a=\"ends in a backslash\\\"", "unterminated \" quote")]
    public void AnOpenQuoteIsRefused(string line, string message) =>
        Assert.That(Refused(() => ShellSyntax.Tokenize(line)).Message, Is.EqualTo(message));

    // Values: JSON structure, quoted strings, integers of any size, floats, booleans in any case, null, else a string.
    // A float already in JSON's form goes as written (QEMU reads it); another is written anew, unless it overflows.
    [TestCase("42", "42")]
    [TestCase("-7", "-7")]
    [TestCase("+5", "5")]
    [TestCase("007", "7")]
    [TestCase("-0", "0")]
    [TestCase("123456789012345678901234567890", "123456789012345678901234567890")]
    [TestCase("1.5", "1.5")]
    [TestCase("-2.5e-3", "-2.5e-3")]
    [TestCase("1e3", "1e3")]
    [TestCase("1.", "1")]
    [TestCase(".5", "0.5")]
    [TestCase("+1.5", "1.5")]
    [TestCase("1E+2", "1E+2")]
    [TestCase("1e999", "1e999")]
    [TestCase("+1e999", "\"+1e999\"")]
    [TestCase("true", "true")]
    [TestCase("False", "false")]
    [TestCase("TRUE", "true")]
    [TestCase("null", "null")]
    [TestCase("Null", "\"Null\"")]
    [TestCase("\"42\"", "\"42\"")]
    [TestCase("'true'", "\"true\"")]
    [TestCase("'a b'", "\"a b\"")]
    [TestCase("\"\"", "\"\"")]
    [TestCase("", "\"\"")]
    [TestCase("0x10", "\"0x10\"")]
    [TestCase("1.2.3", "\"1.2.3\"")]
    [TestCase("/machine/unattached", "\"/machine/unattached\"")]
    [TestCase("{\"a\": [1, \"x\"]}", "{\"a\":[1,\"x\"]}")]
    [TestCase("[]", "[]")]
    public void Value(string raw, string json) => Assert.That(Json(ShellSyntax.Value(raw)), Is.EqualTo(json));

    [TestCase("{bad")]
    [TestCase("[1,")]
    public void BrokenJsonIsRefused(string raw) =>
        Assert.That(Refused(() => ShellSyntax.Value(raw)).Message, Does.StartWith($"'{raw}' is not valid JSON"));

    [TestCase("plain", "plain")]
    [TestCase("a\"b c\"d", "ab cd")]
    [TestCase("'x'\"y\"", "xy")]
    [TestCase("\"a\\\"b\"", "a\"b")]
    [TestCase("'it\"s'", "it\"s")]
    [TestCase("a\\b", "a\\b")]
    public void Unquote(string text, string unquoted) => Assert.That(ShellSyntax.Unquote(text), Is.EqualTo(unquoted));

    // Whole lines.
    [TestCase("")]
    [TestCase("   ")]
    [TestCase("# a comment")]
    [TestCase("  # indented too")]
    public void NothingToSend(string line) => Assert.That(new ShellSyntax().Parse(line), Is.Null);

    [Test]
    public void ACommandWithoutArgumentsHasNone()
    {
        var r = new ShellSyntax().Parse("query-status")!;
        Assert.That(r.Execute, Is.EqualTo("query-status"));
        Assert.That(r.Arguments, Is.Null);
        Assert.That(r.UserId, Is.Null);
    }

    [Test]
    public void DottedKeysNest()
    {
        var r = new ShellSyntax().Parse("blockdev-add driver=qcow2 file.driver=file file.filename=/tmp/x.img node-name=n0 a.b.c=1")!;
        Assert.That(Json(r.Arguments), Is.EqualTo(
            "{\"driver\":\"qcow2\",\"file\":{\"driver\":\"file\",\"filename\":\"/tmp/x.img\"},\"node-name\":\"n0\",\"a\":{\"b\":{\"c\":1}}}"));
    }

    [Test]
    public void QuotesMayHoldTheCommandTheKeyAndAnEqualsSign()
    {
        var r = new ShellSyntax().Parse("\"my cmd\" \"a=b\"=c d=\"e=f\"")!;
        Assert.That(r.Execute, Is.EqualTo("my cmd"));
        Assert.That(Json(r.Arguments), Is.EqualTo("{\"a=b\":\"c\",\"d\":\"e=f\"}"));
    }

    [TestCase("cmd a=1 a=2", "'a' is given more than once")]
    [TestCase("cmd a=1 a.b=2", "'a' is used both as a value and as a parent of dotted keys")]
    [TestCase("cmd a.b=2 a=1", "'a' is used both as a value and as a parent of dotted keys")]
    [TestCase("cmd a..b=1", "'a..b' is not a valid key")]
    [TestCase("cmd .a=1", "'.a' is not a valid key")]
    [TestCase("cmd novalue", "expected key=value, got 'novalue'")]
    [TestCase("cmd \"a=b\"", "expected key=value, got '\"a=b\"'")]
    [TestCase(")", "')' without 'transaction('")]
    public void AMalformedLineIsRefused(string line, string message) =>
        Assert.That(Refused(() => new ShellSyntax().Parse(line)).Message, Is.EqualTo(message));

    [Test]
    public void AJsonCommandKeepsItsArgumentsAndTheUsersId()
    {
        var r = new ShellSyntax().Parse("  {\"execute\": \"qom-get\", \"arguments\": {\"path\": \"/\", \"n\": [1]}, \"id\": {\"k\": 7}}")!;
        Assert.That(r.Execute, Is.EqualTo("qom-get"));
        Assert.That(Json(r.Arguments), Is.EqualTo("{\"path\":\"/\",\"n\":[1]}"));
        Assert.That(Json(r.UserId), Is.EqualTo("{\"k\":7}"));
    }

    [TestCase("{\"execute\": 1}", "\"execute\" must be a string")]
    [TestCase("{\"execute\": \"x\", \"arguments\": [1]}", "\"arguments\" must be an object")]
    [TestCase("{\"exec-oob\": \"x\"}", "exec-oob is not supported: use \"execute\"")]
    [TestCase("{\"execute\": \"x\", \"extra\": 1}", "unexpected member \"extra\": a command has execute, arguments and id")]
    [TestCase("{\"arguments\": {}}", "a JSON command needs \"execute\"")]
    public void AJsonCommandMustBeOne(string line, string message) =>
        Assert.That(Refused(() => new ShellSyntax().Parse(line)).Message, Is.EqualTo(message));

    // In the line's own terms: what is wrong and where, never the parser's LineNumber and BytePositionInLine.
    [TestCase("{\"execute\": ", "invalid JSON: an object or array is not closed (at character 12)")]
    [TestCase("{\"execute\" 1}", "invalid JSON: '1' is invalid after a property name (at character 12)")]
    [TestCase("{\"execute\": \"a\", \"execute\": \"b\"}", "invalid JSON: Duplicate property 'execute'")]
    public void BrokenJsonCommandIsRefusedSayingWhatAndWhere(string line, string message) =>
        Assert.That(Refused(() => new ShellSyntax().Parse(line)).Message, Is.EqualTo(message));

    [Test]
    public void AMultiLineTransactionSendsItsActionsAtTheClose()
    {
        var syntax = new ShellSyntax();
        Assert.That(syntax.Parse("transaction("), Is.Null);
        Assert.That(syntax.InTransaction, Is.True);
        Assert.That(syntax.Parse("block-dirty-bitmap-add node=n0 name=b0"), Is.Null);
        Assert.That(syntax.Parse("{\"type\": \"abort\", \"data\": {}}"), Is.Null);
        Assert.That(syntax.Parse("# a comment inside"), Is.Null);
        Assert.That(syntax.Parse("abort"), Is.Null);
        var r = syntax.Parse(")")!;
        Assert.That(syntax.InTransaction, Is.False);
        Assert.That(r.Execute, Is.EqualTo("transaction"));
        Assert.That(Json(r.Arguments), Is.EqualTo(
            "{\"actions\":[{\"type\":\"block-dirty-bitmap-add\",\"data\":{\"node\":\"n0\",\"name\":\"b0\"}}," +
            "{\"type\":\"abort\",\"data\":{}},{\"type\":\"abort\",\"data\":{}}]}"));
    }

    [TestCase("transaction( abort )", "{\"actions\":[{\"type\":\"abort\",\"data\":{}}]}")]
    [TestCase("transaction( )", "{\"actions\":[]}")]
    [TestCase("transaction( x a=1 )", "{\"actions\":[{\"type\":\"x\",\"data\":{\"a\":1}}]}")]
    public void AOneLineTransaction(string line, string arguments)
    {
        var syntax = new ShellSyntax();
        var r = syntax.Parse(line)!;
        Assert.That(r.Execute, Is.EqualTo("transaction"));
        Assert.That(Json(r.Arguments), Is.EqualTo(arguments));
        Assert.That(syntax.InTransaction, Is.False);
    }

    [Test]
    public void AOneLineTransactionThatFailsLeavesNothingOpen()
    {
        var syntax = new ShellSyntax();
        Refused(() => syntax.Parse("transaction( x bad )"));
        Assert.That(syntax.InTransaction, Is.False);
        Refused(() => syntax.Parse(")"));
    }

    [Test]
    public void ABadActionLeavesAMultiLineTransactionOpen()
    {
        var syntax = new ShellSyntax();
        syntax.Parse("transaction(");
        syntax.Parse("abort");
        Refused(() => syntax.Parse("x bad"));
        Assert.That(Refused(() => syntax.Parse("{\"data\": {}}")).Message, Is.EqualTo("an action in a transaction needs a string \"type\""));
        Assert.That(Refused(() => syntax.Parse("transaction(")).Message, Is.EqualTo("a transaction is already open: finish it with ')'"));
        Assert.That(Refused(() => syntax.Parse(") x")).Message, Is.EqualTo("unexpected input after the ')' that closes the transaction"));
        Assert.That(syntax.InTransaction, Is.True);
        Assert.That(Json(syntax.Parse(")")!.Arguments), Is.EqualTo("{\"actions\":[{\"type\":\"abort\",\"data\":{}}]}"));
    }

    [Test]
    public void CancellingForgetsTheActions()
    {
        var syntax = new ShellSyntax();
        syntax.Parse("transaction(");
        syntax.Parse("abort");
        syntax.CancelTransaction();
        Assert.That(syntax.InTransaction, Is.False);
        syntax.Parse("transaction(");
        Assert.That(Json(syntax.Parse(")")!.Arguments), Is.EqualTo("{\"actions\":[]}"));
    }
}
