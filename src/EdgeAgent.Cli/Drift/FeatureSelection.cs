using System.Globalization;
using System.Text.RegularExpressions;
using EdgeAgent.Core.Drift;

namespace EdgeAgent.Cli.Drift;

/// <summary>
/// Which input features a baseline monitors (<c>--baseline-features</c>): comma-separated column indexes (<c>3</c>),
/// ranges (<c>0-7</c>), column names from the CSV header, <c>INPUT[i]</c>, or the per-sample summaries
/// <c>INPUT:mean</c> and <c>INPUT:std</c>. By default every element of the first input when a sample of it holds at most
/// <see cref="MaxDefaultElements"/> values, otherwise mean and std of every input.
/// </summary>
internal static partial class FeatureSelection
{
    public const int MaxDefaultElements = 64;

    [GeneratedRegex(@"^(?<from>\d+)(-(?<to>\d+))?\z", RegexOptions.CultureInvariant)]
    private static partial Regex IndexRange();

    [GeneratedRegex(@"^(?<input>.+)\[(?<index>\d+)\]\z", RegexOptions.CultureInvariant)]
    private static partial Regex Element();

    [GeneratedRegex(@"^(?<input>.+):(?<statistic>mean|std)\z", RegexOptions.CultureInvariant)]
    private static partial Regex Summary();

    public static IReadOnlyList<DriftFeatureSpec> Resolve(IReadOnlyList<string>? selection, SampleTable table)
    {
        var tokens = (selection ?? []).SelectMany(s => s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();
        if (tokens.Count == 0)
        {
            return Default(table);
        }

        var specs = new List<DriftFeatureSpec>();
        foreach (var token in tokens)
        {
            foreach (var spec in Parse(token, table))
            {
                if (!specs.Any(s => s.Name == spec.Name))
                {
                    specs.Add(spec);
                }
            }
        }

        return specs;
    }

    private static List<DriftFeatureSpec> Default(SampleTable table)
    {
        var first = table.Inputs[0];
        if (first.Size <= MaxDefaultElements)
        {
            return [.. Enumerable.Range(0, first.Size).Select(i => Column(table, first.Offset + i))];
        }

        return [.. table.Inputs.SelectMany(l => new[] { SummaryOf(l, DriftStatistic.Mean), SummaryOf(l, DriftStatistic.Std) })];
    }

    private static IEnumerable<DriftFeatureSpec> Parse(string token, SampleTable table)
    {
        if (IndexRange().Match(token) is { Success: true } range)
        {
            var from = int.Parse(range.Groups["from"].Value, CultureInfo.InvariantCulture);
            var to = range.Groups["to"].Success ? int.Parse(range.Groups["to"].Value, CultureInfo.InvariantCulture) : from;
            if (to < from || to >= table.Width)
            {
                throw new ArgumentException($"--baseline-features '{token}': columns are numbered 0..{table.Width - 1}");
            }

            return Enumerable.Range(from, to - from + 1).Select(c => Column(table, c));
        }

        var column = table.NamedColumns ? IndexOf(table.Columns, token) : -1;
        if (column >= 0)
        {
            return [Column(table, column)];
        }

        if (Element().Match(token) is { Success: true } element && Input(table, element.Groups["input"].Value) is { } input)
        {
            var index = int.Parse(element.Groups["index"].Value, CultureInfo.InvariantCulture);
            if (index >= input.Size)
            {
                throw new ArgumentException($"--baseline-features '{token}': a sample of input '{input.Name}' holds {input.Size} values (0..{input.Size - 1})");
            }

            return [Column(table, input.Offset + index)];
        }

        if (Summary().Match(token) is { Success: true } summary && Input(table, summary.Groups["input"].Value) is { } summarised)
        {
            return [SummaryOf(summarised, summary.Groups["statistic"].Value == "mean" ? DriftStatistic.Mean : DriftStatistic.Std)];
        }

        throw new ArgumentException($"--baseline-features '{token}' is not a column index or range (0..{table.Width - 1}), {(table.NamedColumns ? "a column name, " : string.Empty)}INPUT[i] or INPUT:mean|std for the inputs {string.Join(", ", table.Inputs.Select(i => i.Name))}");
    }

    private static int IndexOf(IReadOnlyList<string> columns, string name)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (columns[i] == name)
            {
                return i;
            }
        }

        return -1;
    }

    private static InputLayout? Input(SampleTable table, string name) => table.Inputs.FirstOrDefault(i => i.Name == name);

    /// <summary>The value feature of column <paramref name="column"/>, named after its CSV header (or <c>input[i]</c>).</summary>
    private static DriftFeatureSpec Column(SampleTable table, int column)
    {
        var input = table.Inputs.Last(l => l.Offset <= column);
        return new DriftFeatureSpec(table.Columns[column], input.Name, IsOutput: false, column - input.Offset, DriftStatistic.Value);
    }

    private static DriftFeatureSpec SummaryOf(InputLayout input, DriftStatistic statistic) =>
        new(DriftFeatureSpec.SummaryName(input.Name, statistic), input.Name, IsOutput: false, null, statistic);
}
