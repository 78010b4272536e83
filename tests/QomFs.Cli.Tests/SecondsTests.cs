using QomFs.Cli;

namespace QomFs.Cli.Tests;

public class SecondsTests
{
    [TestCase("2.5", 2.5)]
    [TestCase("86400", 86400.0)]
    [TestCase("1e-3", 0.001)]
    public void ANumberOfSecondsUpToADayIsTaken(string text, double seconds) =>
        Assert.That(Seconds.Option(text, TimeSpan.Zero), Is.EqualTo(TimeSpan.FromSeconds(seconds)));

    [TestCase("1e10")]
    [TestCase("86401")]
    [TestCase("0")]
    [TestCase("-1")]
    [TestCase("nan")]
    [TestCase("abc")]
    public void AnythingElseIsRefusedNamingTheRange(string text)
    {
        var e = Assert.Throws<UsageException>(() => Seconds.Option(text, TimeSpan.Zero))!;
        Assert.That(e.Message, Is.EqualTo($"--timeout takes a number of seconds above 0 to 86400 (a day), not '{text}'"));
    }

    [Test]
    public void ZeroIsTakenWhereItIsAllowed()
    {
        Assert.That(Seconds.TryParse("0", allowZero: true), Is.EqualTo(TimeSpan.Zero));
        Assert.That(Seconds.Range(allowZero: true), Is.EqualTo("a number of seconds from 0 to 86400 (a day)"));
    }
}
