using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Drift;

/// <summary>
/// One feature or output in a window report: <c>{ "name", "psi", "js", "ks", "state", "counts" }</c> (and <c>"other"</c>
/// for a class entry) as on the drift topic. The statistics and counts are null when the window held no value for it.
/// </summary>
public sealed record DriftEntryReport
{
    [JsonPropertyName("name")] public required string Name { get; init; }

    [JsonPropertyName("psi")] public double? Psi { get; init; }

    [JsonPropertyName("js")] public double? Js { get; init; }

    [JsonPropertyName("ks")] public double? Ks { get; init; }

    /// <summary>This entry's state after the window; <see cref="DriftState.Insufficient"/> when it had too few values (its held state is unchanged).</summary>
    [JsonPropertyName("state")] public DriftState State { get; init; }

    /// <summary>
    /// The window's count per bin, in the order and length of the baseline's <see cref="DriftDistribution.Proportions"/>
    /// (a numeric entry: one per bin, edges + 1; a class entry: one per class, without the "other" bin, which is
    /// <see cref="Other"/>). Null when the window held no value; always written, as null then.
    /// </summary>
    [JsonPropertyName("counts")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public IReadOnlyList<long>? Counts { get; init; }

    /// <summary>
    /// A class entry's values in the window that the baseline never saw (its "other" bin, baseline share 0, scored with
    /// the others); null, and not written, for a numeric entry or an empty window. Binned values = sum of
    /// <see cref="Counts"/> + this.
    /// </summary>
    [JsonPropertyName("other")] public long? Other { get; init; }

    /// <summary>Values binned in the window (NaN excluded).</summary>
    [JsonIgnore] public long Count { get; init; }

    /// <summary>NaN values seen in the window (not binned).</summary>
    [JsonIgnore] public long NaN { get; init; }
}
