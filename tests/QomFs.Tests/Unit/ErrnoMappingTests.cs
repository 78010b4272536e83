using QomFs.Fuse;
using QomFs.Qmp;
using QomFs.Qom;

namespace QomFs.Tests.Unit;

/// <summary>Every way a failure becomes an errno, for reads and for writes (the README's errno table).</summary>
public class ErrnoMappingTests
{
    static QmpCommandException Refused(string errorClass, string description) => new("qom-get", errorClass, description);

    // What QEMU says, and the errno a read and a write fail with.
    static IEnumerable<TestCaseData> Failures()
    {
        yield return Case("unreadable", Refused("GenericError", "Property 'x.secret' is not readable"), Errno.EACCES, Errno.EINVAL);
        yield return Case("unwritable", Refused("GenericError", "Property 'x.type' is not writable"), Errno.EIO, Errno.EACCES);
        yield return Case("no such object", Refused("DeviceNotFound", "Device 'nope' not found"), Errno.ENOENT, Errno.ENOENT);
        yield return Case("no such property", Refused("GenericError", "Property 'x.nope' not found"), Errno.ENOENT, Errno.ENOENT);
        yield return Case("not found, said otherwise", Refused("GenericError", "Property 'x.y' not found here"), Errno.EIO, Errno.EINVAL);
        yield return Case("any other refusal", Refused("GenericError", "Invalid parameter type"), Errno.EIO, Errno.EINVAL);
        yield return Case("a value that does not fit its type", new QomValueException("not a number"), Errno.EIO, Errno.EINVAL);
        yield return Case("an errno of its own", new FuseException(Errno.ENOTDIR), Errno.ENOTDIR, Errno.ENOTDIR);
        yield return Case("a timeout", new QmpTimeoutException("no reply in 3 s"), Errno.ETIMEDOUT, Errno.ETIMEDOUT);
        yield return Case("a lost connection", new QmpConnectionException("QEMU went away"), Errno.ENOTCONN, Errno.ENOTCONN);
        yield return Case("a broken protocol", new QmpProtocolException("invalid JSON"), Errno.EIO, Errno.EIO);
        yield return Case("a bug", new InvalidOperationException("oops"), Errno.EIO, Errno.EIO);
    }

    static TestCaseData Case(string what, Exception e, int read, int write) => new TestCaseData(e, read, write).SetArgDisplayNames(what);

    [TestCaseSource(nameof(Failures))]
    public void AFailureFailsAReadAndAWriteWithItsErrno(Exception e, int read, int write)
    {
        Assert.That(ErrnoMapping.ForRead(e), Is.EqualTo(read), "read");
        Assert.That(ErrnoMapping.ForWrite(e), Is.EqualTo(write), "write");
    }
}
