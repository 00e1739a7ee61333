namespace EdgeAgent.Core.Drift;

/// <summary>
/// What one monitored distribution measures: a statistic of each sample (one row along the first axis) of a model input
/// or output. <see cref="Index"/> is the element's position within the sample, flattened row-major, for
/// <see cref="DriftStatistic.Value"/>, and null otherwise.
/// </summary>
public sealed record DriftFeatureSpec(string Name, string Tensor, bool IsOutput, int? Index, DriftStatistic Statistic)
{
    /// <summary>The conventional name of an element: <c>features[3]</c>.</summary>
    public static string ElementName(string tensor, int index) => $"{tensor}[{index}]";

    /// <summary>The conventional name of a summary: <c>image:mean</c>.</summary>
    public static string SummaryName(string tensor, DriftStatistic statistic) => $"{tensor}:{statistic.ToString().ToLowerInvariant()}";

    /// <summary>This statistic of one sample; NaN when the sample is empty or too short for <see cref="Index"/>. Not for <see cref="DriftStatistic.Class"/>.</summary>
    public double Measure(ReadOnlySpan<double> sample) => Statistic switch
    {
        DriftStatistic.Value => Index is { } i && (uint)i < (uint)sample.Length ? sample[i] : double.NaN,
        DriftStatistic.Mean => DriftSummaries.Mean(sample),
        DriftStatistic.Std => DriftSummaries.StandardDeviation(sample),
        _ => throw new InvalidOperationException($"'{Name}' counts classes: add each element, not one value per sample"),
    };
}
