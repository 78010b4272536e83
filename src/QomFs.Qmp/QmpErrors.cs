namespace QomFs.Qmp;

/// <summary>The root of every error this library raises: catch this to catch them all.</summary>
public class QmpException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The peer understood the command and refused it: QMP's <c>error</c> reply, with its class and desc.</summary>
public sealed class QmpCommandException(string command, string errorClass, string description)
    : QmpException($"{errorClass}: {description}")
{
    public string Command { get; } = command;
    public string ErrorClass { get; } = errorClass;
    public string Description { get; } = description;
}

/// <summary>No connection could be made, or the one we had is gone. Every pending command fails with this at once.</summary>
public sealed class QmpConnectionException(string message, Exception? inner = null) : QmpException(message, inner);

/// <summary>No answer within the deadline. The connection stays usable; a late reply is dropped.</summary>
public sealed class QmpTimeoutException(string message) : QmpException(message);

/// <summary>The peer broke the protocol (invalid JSON, a non-object, an oversized message). The connection is closed.</summary>
public sealed class QmpProtocolException(string message, Exception? inner = null) : QmpException(message, inner);
