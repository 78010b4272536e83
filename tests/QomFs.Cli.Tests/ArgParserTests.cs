namespace QomFs.Cli.Tests;

// In-process: the parser alone, as the commands configure it. -h writes to Console.Out, which one test redirects.
[NonParallelizable]
public class ArgParserTests
{
    const string Usage = "usage: prog [-s SOCKET] [-v] [-p] [--timeout S] ARGS";

    static ArgParser Parser() =>
        new ArgParser("prog", Usage).Value("-s", "--socket").Flag("-v", "--verbose").Flag("-p", "--pretty")
            .Value("", "--timeout").Value("-o", "");

    static ParsedArgs Parse(params string[] args) => Parser().Parse(args)!;

    [TestCase("--socket", "/tmp/a", TestName = "a long option and its value as the next argument")]
    [TestCase("--socket=/tmp/a", null, TestName = "a long option with =VALUE")]
    [TestCase("-s", "/tmp/a", TestName = "a short option and its value as the next argument")]
    [TestCase("-s/tmp/a", null, TestName = "a short option with its value attached")]
    public void AValueIsTakenInEveryForm(string first, string? second)
    {
        var args = Parse(second is null ? [first] : [first, second]);
        Assert.That(args.Get("--socket"), Is.EqualTo("/tmp/a"));
        Assert.That(args.Positionals, Is.Empty);
    }

    [Test]
    public void AnEmptyValueAfterEqualsIsAValue()
    {
        var args = Parse("--socket=");
        Assert.That(args.Has("--socket"), Is.True);
        Assert.That(args.Get("--socket"), Is.EqualTo(""));
    }

    [Test]
    public void BundledShortFlagsAreEachSet()
    {
        var args = Parse("-vp");
        Assert.That(args.Has("--verbose"), Is.True);
        Assert.That(args.Has("--pretty"), Is.True);
        Assert.That(args.Has("--socket"), Is.False);
    }

    [Test]
    public void ABundleMayEndInAnOptionThatTakesTheRestAsItsValue()
    {
        var args = Parse("-vsX.sock");
        Assert.That(args.Has("--verbose"), Is.True);
        Assert.That(args.Get("--socket"), Is.EqualTo("X.sock"));
        Assert.That(args.Has("--pretty"), Is.False, "the p in the value is no flag");
    }

    [Test]
    public void AShortOnlyOptionIsKeptUnderItsShortName()
    {
        var args = Parse("-o", "ro", "-o", "allow_other");
        Assert.That(args.GetAll("-o"), Is.EqualTo(new[] { "ro", "allow_other" }));
    }

    [Test]
    public void ARepeatedOptionGivesItsLastValueAndKeepsAll()
    {
        var args = Parse("--timeout", "1", "--timeout=2");
        Assert.That(args.Get("--timeout"), Is.EqualTo("2"));
        Assert.That(args.GetAll("--timeout"), Is.EqualTo(new[] { "1", "2" }));
        Assert.That(args.GetAll("--socket"), Is.Empty);
        Assert.That(args.Get("--socket"), Is.Null);
    }

    [Test]
    public void OptionsMayFollowPositionals()
    {
        var args = Parse("a", "-v", "b");
        Assert.That(args.Positionals, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(args.Has("--verbose"), Is.True);
    }

    [Test]
    public void DoubleDashEndsTheOptions()
    {
        var args = Parse("-v", "--", "-p", "--socket", "x");
        Assert.That(args.Has("--pretty"), Is.False);
        Assert.That(args.Positionals, Is.EqualTo(new[] { "-p", "--socket", "x" }));
    }

    [TestCase("-5")]
    [TestCase("-1.5")]
    [TestCase("-")]
    public void ANegativeNumberOrALoneDashIsAPositional(string arg) =>
        Assert.That(Parse(arg).Positionals, Is.EqualTo(new[] { arg }));

    [Test]
    public void ANegativeNumberIsStillTakenAsAValue() => Assert.That(Parse("--timeout", "-1").Get("--timeout"), Is.EqualTo("-1"));

    [Test]
    public void AValueMayLookLikeAnOption() => Assert.That(Parse("-s", "-v").Get("--socket"), Is.EqualTo("-v"));

    [Test]
    public void StoppingAtTheFirstPositionalLeavesTheRestToASubcommand()
    {
        var args = Parser().Parse(["-v", "exec", "-p", "--help", "--", "x"], stopAtFirstPositional: true)!;
        Assert.That(args.Has("--verbose"), Is.True);
        Assert.That(args.Has("--pretty"), Is.False);
        Assert.That(args.Positionals, Is.EqualTo(new[] { "exec", "-p", "--help", "--", "x" }));
    }

    [TestCase("--nope", "unknown option --nope (see 'prog --help')")]
    [TestCase("--nope=1", "unknown option --nope (see 'prog --help')")]
    [TestCase("-x", "unknown option -x (see 'prog --help')")]
    [TestCase("-vx", "unknown option -x (see 'prog --help')")]
    [TestCase("--socket", "option --socket needs a value")]
    [TestCase("-s", "option -s needs a value")]
    [TestCase("--verbose=yes", "option --verbose takes no value")]
    public void AMistakeIsAUsageErrorThatSaysWhat(string arg, string message)
    {
        var e = Assert.Throws<UsageException>(() => Parse(arg));
        Assert.That(e!.Message, Is.EqualTo(message));
    }

    [TestCase("-h")]
    [TestCase("--help")]
    public void HelpPrintsTheUsageAndParsesNothing(string arg)
    {
        var previous = Console.Out;
        var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            Assert.That(Parser().Parse(["-v", arg, "--nope"]), Is.Null);
        }
        finally { Console.SetOut(previous); }
        Assert.That(output.ToString(), Is.EqualTo(Usage + Environment.NewLine));
    }

    [Test]
    public void HelpAfterDoubleDashIsAPositional() =>
        Assert.That(Parse("--", "-h").Positionals, Is.EqualTo(new[] { "-h" }));
}
