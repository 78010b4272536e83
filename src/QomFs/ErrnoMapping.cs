using QomFs.Fuse;
using QomFs.Qmp;
using QomFs.Qom;

namespace QomFs;

/// <summary>
/// How QEMU's answers become errnos. QEMU reports most failures as GenericError, so the desc decides; see
/// the errno table in the README.
/// </summary>
static class ErrnoMapping
{
    public static int ForRead(Exception e) => e switch
    {
        QmpCommandException c when c.Description.Contains("is not readable", StringComparison.Ordinal) => Errno.EACCES,
        QmpCommandException c => Common(c) ?? Errno.EIO,
        _ => Transport(e),
    };

    public static int ForWrite(Exception e) => e switch
    {
        QomValueException => Errno.EINVAL,
        QmpCommandException c when c.Description.Contains("is not writable", StringComparison.Ordinal) => Errno.EACCES,
        QmpCommandException c => Common(c) ?? Errno.EINVAL,
        _ => Transport(e),
    };

    /// <summary>A VM that cannot be reached: ETIMEDOUT when it did not answer in time, ENOTCONN otherwise (no socket, no QMP).</summary>
    public static int ForConnect(Exception e) => e is QmpTimeoutException ? Errno.ETIMEDOUT : Errno.ENOTCONN;

    static int? Common(QmpCommandException c) =>
        c.ErrorClass == "DeviceNotFound"
        || (c.Description.StartsWith("Property '", StringComparison.Ordinal) && c.Description.EndsWith("' not found", StringComparison.Ordinal))
            ? Errno.ENOENT
            : null;

    static int Transport(Exception e) => e switch
    {
        FuseException f => f.Errno,
        QmpTimeoutException => Errno.ETIMEDOUT,
        QmpConnectionException => Errno.ENOTCONN,
        QmpProtocolException => Errno.EIO,
        _ => Errno.EIO,
    };
}
