using System.Globalization;

namespace QomFs.Cli;

/// <summary>A duration given in seconds on a command line: <c>--timeout 2.5</c>, <c>-o cache_ttl=0</c>.</summary>
static class Seconds
{
    // A day: more is a typing error, not a timeout (and TimeSpan would overflow long before a double does).
    const double Most = 86400;

    /// <summary>The duration, or null for anything but a number of seconds above 0 (or 0 too) and a day at most.</summary>
    public static TimeSpan? TryParse(string text, bool allowZero)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s)
            || double.IsNaN(s) || s < 0 || (s == 0 && !allowZero) || s > Most)
            return null;
        return TimeSpan.FromSeconds(s);
    }

    /// <summary>An option's value in seconds (above 0), or <paramref name="fallback"/> when it was not given.</summary>
    /// <exception cref="UsageException">not such a number.</exception>
    public static TimeSpan Option(string? text, TimeSpan fallback, string option = "--timeout") =>
        text is null ? fallback
            : TryParse(text, allowZero: false)
              ?? throw new UsageException($"{option} takes {Range(allowZero: false)}, not '{text}'");

    /// <summary>What <see cref="TryParse"/> takes, for a message.</summary>
    public static string Range(bool allowZero) => $"a number of seconds {(allowZero ? "from 0" : "above 0")} to {Most} (a day)";
}
