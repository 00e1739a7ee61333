using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Drift;

/// <summary>
/// One entry of the manifest's <c>drift.features</c> or <c>drift.outputs</c>: what is measured and its baseline histogram.
/// Numeric statistics carry <see cref="Edges"/> (ascending inner cut points: bin i is (edges[i-1], edges[i]], the first
/// and last bins open); <see cref="DriftStatistic.Class"/> carries <see cref="Classes"/>. <see cref="Proportions"/> has one
/// share per bin (per class) and sums to 1.
/// </summary>
public sealed record DriftDistribution
{
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>The model input measured (entries of <c>features</c>).</summary>
    [JsonPropertyName("input")] public string? Input { get; init; }

    /// <summary>The model output measured (entries of <c>outputs</c>).</summary>
    [JsonPropertyName("output")] public string? Output { get; init; }

    /// <summary>Position of the element within one sample (row-major) for <see cref="DriftStatistic.Value"/>; null otherwise (written as null).</summary>
    [JsonPropertyName("index")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public int? Index { get; init; }

    [JsonPropertyName("statistic")] public DriftStatistic Statistic { get; init; }

    [JsonPropertyName("edges")] public IReadOnlyList<double>? Edges { get; init; }

    [JsonPropertyName("classes")] public IReadOnlyList<long>? Classes { get; init; }

    [JsonPropertyName("proportions")] public required IReadOnlyList<double> Proportions { get; init; }

    [JsonIgnore] public bool IsCategorical => Statistic == DriftStatistic.Class;

    /// <summary>What this entry measures.</summary>
    [JsonIgnore] public DriftFeatureSpec Spec => new(Name, Output ?? Input ?? string.Empty, Output is not null, Index, Statistic);

    /// <summary>Number of bins a histogram of this entry has: edges + 1, or classes + 1 (the last for values the baseline never saw).</summary>
    [JsonIgnore] public int BinCount => (IsCategorical ? Classes?.Count : Edges?.Count) is { } keys ? keys + 1 : 1;

    /// <summary>The baseline share of each of the <see cref="BinCount"/> bins (the "other" bin of a categorical entry is 0).</summary>
    /// <exception cref="ArgumentException">The proportions do not match the bins.</exception>
    public double[] BaselinePerBin()
    {
        var expected = IsCategorical ? BinCount - 1 : BinCount;
        if (Proportions is null || Proportions.Count != expected)
        {
            throw new ArgumentException($"'{Name}' has {Proportions?.Count ?? 0} proportions for {expected} {(IsCategorical ? "classes" : "bins")}");
        }

        var baseline = new double[BinCount];
        for (var i = 0; i < Proportions.Count; i++)
        {
            baseline[i] = Proportions[i];
        }

        return baseline;
    }

    /// <summary>The entry for <paramref name="spec"/> with these bins.</summary>
    public static DriftDistribution For(DriftFeatureSpec spec, IReadOnlyList<double>? edges, IReadOnlyList<long>? classes, IReadOnlyList<double> proportions)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new DriftDistribution
        {
            Name = spec.Name,
            Input = spec.IsOutput ? null : spec.Tensor,
            Output = spec.IsOutput ? spec.Tensor : null,
            Index = spec.Index,
            Statistic = spec.Statistic,
            Edges = edges,
            Classes = classes,
            Proportions = proportions,
        };
    }
}
