namespace QomFs.Qom;

/// <summary>QOM paths: absolute, '/'-separated; names may hold dots, brackets and spaces but never '/'.</summary>
public static class QomPath
{
    public const string Root = "/";

    /// <summary>An absolute path as QEMU resolves it, in the form this model keys it by: empty components dropped
    /// (<c>/machine//peripheral/</c> is <c>/machine/peripheral</c>).</summary>
    public static string Canonical(string absolute) => Root + string.Join('/', absolute.Split('/', StringSplitOptions.RemoveEmptyEntries));

    public static string Combine(string parent, string name) => parent == Root ? Root + name : parent + "/" + name;

    public static string Parent(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash <= 0 ? Root : path[..slash];
    }

    public static string Name(string path) => path[(path.LastIndexOf('/') + 1)..];

    /// <summary>The depth of a path: 0 for the root, 1 for /machine.</summary>
    public static int Depth(string path) => path == Root ? 0 : path.Count(c => c == '/');

    /// <summary>
    /// A relative symlink target from the directory that holds a link to an absolute QOM path, so that it resolves
    /// inside the mount wherever the mount is: from /machine/a, the target /machine/b/c is "../machine/b/c".
    /// </summary>
    public static string RelativeTarget(string linkDirectory, string target)
    {
        var ups = Depth(linkDirectory);
        var prefix = string.Concat(Enumerable.Repeat("../", ups));
        var rest = target.TrimStart('/');
        return ups == 0 ? (rest.Length == 0 ? "." : rest) : prefix + rest;
    }
}
