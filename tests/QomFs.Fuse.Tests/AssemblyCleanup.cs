namespace QomFs.Fuse.Tests;

/// <summary>Removes this run's temp root (/tmp/qomfs-test-PID) once every test has cleaned up inside it.</summary>
[SetUpFixture]
public class AssemblyCleanup
{
    [OneTimeTearDown]
    public void RemoveEmptyTempRoot()
    {
        var root = Path.Combine("/tmp", $"qomfs-test-{Environment.ProcessId}");
        if (Directory.Exists(root) && !Directory.EnumerateFileSystemEntries(root).Any()) Directory.Delete(root);
    }
}
