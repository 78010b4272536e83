using System.Text.Json;

namespace QomFs.Qmp;

/// <summary>A command with its arguments, not sent yet.</summary>
/// <param name="WriteArguments">writes the members of the <c>arguments</c> object; null for none.</param>
public readonly record struct QmpCommand(string Name, Action<Utf8JsonWriter>? WriteArguments = null);
