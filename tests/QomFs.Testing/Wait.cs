using System.Diagnostics;

namespace QomFs.Testing;

/// <summary>Polling with a deadline: the only way tests wait for something that has no event to wait on.</summary>
public static class Wait
{
    public static void Until(Func<bool> condition, TimeSpan deadline, string what)
    {
        var clock = Stopwatch.StartNew();
        var pause = 1;
        while (!condition())
        {
            if (clock.Elapsed > deadline) Assert.Fail($"timed out after {deadline.TotalSeconds:0.#} s waiting for {what}");
            Thread.Sleep(pause);
            pause = Math.Min(pause * 2, 50);
        }
    }

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan deadline, string what)
    {
        var clock = Stopwatch.StartNew();
        var pause = 1;
        while (!await condition())
        {
            if (clock.Elapsed > deadline) Assert.Fail($"timed out after {deadline.TotalSeconds:0.#} s waiting for {what}");
            await Task.Delay(pause);
            pause = Math.Min(pause * 2, 50);
        }
    }
}
