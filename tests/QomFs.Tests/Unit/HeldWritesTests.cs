using System.Text;
using QomFs.Fuse;
using QomFs.Qmp;
using QomFs.Qom;

namespace QomFs.Tests.Unit;

/// <summary>Held and merged writes against a fake setter and a fake clock: no FUSE, no QEMU.</summary>
[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
public class HeldWritesTests
{
    const string Path = "/machine/v";
    const int Page = 4096;

    static readonly QomEntry File = QomEntry.Of(Path, new QomProperty { Name = "v", Type = "str" });

    readonly FakeTime _time = new();
    readonly List<string> _set = [];
    // What the kernel was told to forget: files set after their write had returned.
    readonly List<string> _invalidated = [];
    readonly StringWriter _log = new();
    Func<byte[], Exception?> _failure = _ => null;

    HeldWrites NewWrites(int maxBytes = 64 * 1024) => new((entry, value) =>
    {
        _set.Add(entry.Path + "=" + Encoding.UTF8.GetString(value));
        return _failure(value) is { } e ? Task.FromException(e) : Task.CompletedTask;
    }, new FailureLog(new DaemonLog(_log)), maxBytes, _time, _invalidated.Add);

    static byte[] Text(string s) => Encoding.UTF8.GetBytes(s);

    static string Pages(int n, char c = 'a') => new(c, n * Page);

    [Test]
    public void AWriteThatIsNoWholePageSetsItsValueAtOnce()
    {
        var writes = NewWrites();
        Assert.That(writes.Write(File, 0, Text("42\n"), append: false), Is.EqualTo(3));
        Assert.That(_set, Is.EqualTo(new[] { Path + "=42\n" }));
        Assert.That(_time.Pending, Is.Zero);
    }

    [Test]
    public void AWholePageIsHeldUntilItsDeadline()
    {
        var writes = NewWrites();
        Assert.That(writes.Write(File, 0, Text(Pages(1)), append: false), Is.EqualTo(Page));
        _time.Advance(HeldWrites.HoldTime - TimeSpan.FromMilliseconds(1));
        Assert.That(_set, Is.Empty, "held");
        Assert.That(_invalidated, Is.Empty);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(_set, Is.EqualTo(new[] { Path + "=" + Pages(1) }));
        Assert.That(_invalidated, Is.EqualTo(new[] { Path }), "a read during the hold may have cached the old value");
    }

    [Test]
    public void AWriteThatContinuesAHeldOneMergesWithItIntoOneValue()
    {
        var writes = NewWrites();
        writes.Write(File, 0, Text(Pages(1)), append: false);
        writes.Write(File, Page, Text(Pages(2, 'b')), append: false);
        Assert.That(writes.Write(File, 3 * Page, Text("end\n"), append: false), Is.EqualTo(4));
        Assert.That(_set, Is.EqualTo(new[] { Path + "=" + Pages(1) + Pages(2, 'b') + "end\n" }));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(_set, Has.Count.EqualTo(1), "the merged pages' timers were stopped");
        Assert.That(_time.Pending, Is.Zero);
    }

    [Test]
    public void AWriteThatContinuesASetValueExtendsIt()
    {
        var writes = NewWrites();
        writes.Write(File, 0, Text("ab"), append: false);
        Assert.That(writes.Write(File, 2, Text("cd"), append: false), Is.EqualTo(2));
        Assert.That(_set, Is.EqualTo(new[] { Path + "=ab", Path + "=abcd" }));
    }

    [Test]
    public void AHeldValueThatTheNextWriteDoesNotContinueIsSetFirst()
    {
        var writes = NewWrites();
        writes.Write(File, 0, Text(Pages(1)), append: false);
        writes.Write(File, 0, Text("new\n"), append: false);
        Assert.That(_set, Is.EqualTo(new[] { Path + "=" + Pages(1), Path + "=new\n" }));
        Assert.That(_time.Pending, Is.Zero);
    }

    [Test]
    public void AnAppendStartsAValueWhateverItsOffset()
    {
        var writes = NewWrites();
        writes.Write(File, 0, Text("ab"), append: false);
        writes.Write(File, 7, Text("cd"), append: true);
        Assert.That(_set, Is.EqualTo(new[] { Path + "=ab", Path + "=cd" }));
    }

    [Test]
    public void AWriteAtAnOffsetThatContinuesNothingIsESPIPE()
    {
        var writes = NewWrites();
        Assert.That(writes.Write(File, 5, Text("x"), append: false), Is.EqualTo(-Errno.ESPIPE));
        writes.Write(File, 0, Text("ab"), append: false);
        Assert.That(writes.Write(File, 3, Text("x"), append: false), Is.EqualTo(-Errno.ESPIPE), "a gap");
        Assert.That(_set, Is.EqualTo(new[] { Path + "=ab" }));
    }

    [Test]
    public void AValueOverTheLimitIsEFBIGAndSetsNothing()
    {
        var writes = NewWrites(maxBytes: Page + 2);
        writes.Write(File, 0, Text(Pages(1)), append: false);
        Assert.That(writes.Write(File, Page, Text("abc"), append: false), Is.EqualTo(-Errno.EFBIG));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(_set, Is.Empty, "the held page went with the value it began");
    }

    [Test]
    public void ARefusalFailsTheWriteWithItsErrnoAndIsLogged()
    {
        var writes = NewWrites();
        _failure = _ => new QmpCommandException("qom-set", "GenericError", "Property 'machine.v' is not writable");
        Assert.That(writes.Write(File, 0, Text("1\n"), append: false), Is.EqualTo(-Errno.EACCES));
        _failure = _ => new QomValueException("not a number");
        Assert.That(writes.Write(File, 0, Text("x\n"), append: false), Is.EqualTo(-Errno.EINVAL));
        Assert.That(writes.Write(File, 2, Text("y"), append: false), Is.EqualTo(-Errno.ESPIPE), "a refused value continues nothing");
        Assert.That(_log.ToString(), Does.Contain($"write {Path}: GenericError: Property 'machine.v' is not writable")
            .And.Contain($"write {Path}: not a number"));
    }

    [Test]
    public void ARefusalOfAHeldValueAtItsDeadlineIsOnlyLogged()
    {
        var writes = NewWrites();
        _failure = _ => new QmpTimeoutException("no reply in time");
        Assert.That(writes.Write(File, 0, Text(Pages(1)), append: false), Is.EqualTo(Page));
        _time.Advance(HeldWrites.HoldTime);
        Assert.That(_set, Has.Count.EqualTo(1));
        Assert.That(_log.ToString(), Does.Contain($"write {Path}: no reply in time"));
    }

    [Test]
    public void TruncationSetsWhatIsHeldAndEndsTheValue()
    {
        var writes = NewWrites();
        writes.Write(File, 0, Text(Pages(1)), append: false);
        writes.Truncated(Path);
        Assert.That(_set, Is.EqualTo(new[] { Path + "=" + Pages(1) }));
        Assert.That(writes.Write(File, Page, Text("x"), append: false), Is.EqualTo(-Errno.ESPIPE));
        Assert.That(_time.Pending, Is.Zero);
    }

    [Test]
    public void SetAllSetsEveryHeldValue()
    {
        var writes = NewWrites();
        var other = QomEntry.Of("/machine/w", new QomProperty { Name = "w", Type = "str" });
        writes.Write(File, 0, Text(Pages(1)), append: false);
        writes.Write(other, 0, Text(Pages(1, 'w')), append: false);
        writes.SetAll();
        Assert.That(_set, Is.EquivalentTo(new[] { Path + "=" + Pages(1), "/machine/w=" + Pages(1, 'w') }));
        Assert.That(_time.Pending, Is.Zero);
    }
}
