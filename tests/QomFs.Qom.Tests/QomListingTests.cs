namespace QomFs.Qom.Tests;

/// <summary>The guess a listing makes at the value its reader fetches next.</summary>
public class QomListingTests
{
    static QomListing Listing(bool described = true) => new(
    [
        new QomProperty { Name = "type", Type = "string" },
        new QomProperty { Name = "kid", Type = "child<k>" },
        new QomProperty { Name = "a", Type = "int" },
        new QomProperty { Name = "bus", Type = "link<b>" },
        new QomProperty { Name = "b", Type = "bool" },
        new QomProperty { Name = "c", Type = "str" },
    ], described);

    [Test]
    public void AReaderGoingThroughTheValuesInOrderIsToldTheNextPastDirectoriesAndLinks()
    {
        var listing = Listing();
        Assert.That(listing.Fetching("type"), Is.Null, "one value read says nothing of an order yet");
        Assert.That(listing.Fetching("a"), Is.EqualTo("b"));
        Assert.That(listing.Fetching("b"), Is.EqualTo("c"));
        Assert.That(listing.Fetching("c"), Is.Null, "the last value has none after it");
    }

    [Test]
    public void AReaderOutOfOrderIsToldNothingUntilItReadsInOrderAgain()
    {
        var listing = Listing();
        Assert.That(listing.Fetching("type"), Is.Null);
        Assert.That(listing.Fetching("b"), Is.Null, "a is not fetched yet");
        Assert.That(listing.Fetching("c"), Is.Null);
        Assert.That(listing.Fetching("a"), Is.Null, "the first not fetched, but every value after it was");
        Assert.That(listing.Fetching("type"), Is.Null, "fetched again: no longer the first not fetched");
    }

    [Test]
    public void ReadingALinkOrAnUnknownNameGuessesNothing()
    {
        var listing = Listing();
        Assert.That(listing.Fetching("type"), Is.Null);
        Assert.That(listing.Fetching("bus"), Is.Null);
        Assert.That(listing.Fetching("nope"), Is.Null);
        Assert.That(listing.Fetching("a"), Is.EqualTo("b"), "neither changed the order");
    }

    [Test]
    public void AListingThatBroughtItsValuesGuessesNothing()
    {
        var listing = Listing(described: false);
        foreach (var name in new[] { "type", "a", "b" }) Assert.That(listing.Fetching(name), Is.Null, name);
    }
}
