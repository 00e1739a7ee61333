using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Drift;

/// <summary>
/// The manifest's <c>drift.thresholds</c>: per statistic, raise and clear levels. A distribution enters drift when any
/// statistic reaches its raise level and leaves it when every statistic is below its clear level (docs/drift.md#thresholds).
/// </summary>
public sealed record DriftThresholds
{
    public static readonly DriftThresholds Default = new();

    [JsonPropertyName("psi")] public DriftThreshold Psi { get; set; } = new(0.25, 0.10);

    [JsonPropertyName("js")] public DriftThreshold Js { get; set; } = new(0.20, 0.10);

    [JsonPropertyName("ks")] public DriftThreshold Ks { get; set; } = new(0.20, 0.10);

    /// <summary>True when any statistic is at or above its raise level.</summary>
    public bool Raises(DriftScores scores) => scores.Psi >= Psi.Raise || scores.Js >= Js.Raise || scores.Ks >= Ks.Raise;

    /// <summary>True when every statistic is below its clear level.</summary>
    public bool Clears(DriftScores scores) => scores.Psi < Psi.Clear && scores.Js < Js.Clear && scores.Ks < Ks.Clear;

    /// <summary>The state after a window with enough samples: hysteresis between <see cref="Raises"/> and <see cref="Clears"/>.</summary>
    public DriftState Next(DriftState current, DriftScores scores) => current == DriftState.Drift
        ? (Clears(scores) ? DriftState.Ok : DriftState.Drift)
        : (Raises(scores) ? DriftState.Drift : DriftState.Ok);
}
