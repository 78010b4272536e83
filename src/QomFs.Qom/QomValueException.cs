namespace QomFs.Qom;

/// <summary>Text that does not convert to a property's type. The message names the property, its type and the reason.</summary>
public sealed class QomValueException(string message) : Exception(message);
