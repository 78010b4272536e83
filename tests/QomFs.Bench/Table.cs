using System.Globalization;
using System.Text;

namespace QomFs.Bench;

enum Unit { Seconds, Millis, PerSecond, Megabytes, Share }

/// <summary>One row: the samples of its runs, and what it is checked against.</summary>
sealed record Row(string Name, string Machine, Unit Unit, IReadOnlyList<double> Samples)
{
    /// <summary>The QEMU version the row ran on, e.g. 7.2.22.</summary>
    public string Qemu { get; init; } = "";
    public double? FloorSeconds { get; init; }
    public string Commands { get; init; } = "";
    public string Target { get; init; } = "";
    /// <summary>yes, NO, or empty when the row has no target.</summary>
    public string Met { get; init; } = "";
    public string Note { get; init; } = "";

    public double Median => Measure.Median(Samples);
}

sealed class Table
{
    readonly List<Row> _rows = [];

    public void Add(Row row) => _rows.Add(row);

    public static string Format(double value, Unit unit) => double.IsNaN(value) ? "n/a" : unit switch
    {
        Unit.Seconds => value.ToString(value < 10 ? "0.000" : "0.00", CultureInfo.InvariantCulture) + " s",
        Unit.Millis => (value * 1000).ToString(value < 0.01 ? "0.000" : "0.00", CultureInfo.InvariantCulture) + " ms",
        Unit.PerSecond => value.ToString("0", CultureInfo.InvariantCulture) + "/s",
        Unit.Megabytes => (value / (1024 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " MB",
        Unit.Share => (value * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%",
        _ => value.ToString(CultureInfo.InvariantCulture),
    };

    public string Render()
    {
        var sb = new StringBuilder();
        // QEMU comes last, so that the columns before it keep their places for whoever reads the table by position.
        sb.AppendLine("| row | machine | runs | median | min | max | × floor | QMP commands | target | met | QEMU |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in _rows)
        {
            var ratio = r.FloorSeconds is { } f && r.Unit == Unit.Seconds ? (r.Median / f).ToString("0.000", CultureInfo.InvariantCulture) + "×" : "";
            var cells = new[]
            {
                r.Name, r.Machine, r.Samples.Count.ToString(CultureInfo.InvariantCulture),
                Format(r.Median, r.Unit), Format(r.Samples.DefaultIfEmpty(double.NaN).Min(), r.Unit), Format(r.Samples.DefaultIfEmpty(double.NaN).Max(), r.Unit),
                ratio, r.Commands, r.Target, r.Met, r.Qemu,
            };
            sb.Append("| ").Append(string.Join(" | ", cells.Select(c => c.Replace("|", "\\|")))).AppendLine(" |");
        }
        return sb.ToString();
    }

    public IEnumerable<string> Notes() => _rows.Where(r => r.Note.Length > 0)
        .Select(r => r.Qemu.Length > 0 ? $"- {r.Name} ({r.Machine}, QEMU {r.Qemu}): {r.Note}" : $"- {r.Name}: {r.Note}");
}
