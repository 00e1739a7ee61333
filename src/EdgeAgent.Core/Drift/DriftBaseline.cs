using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Drift;

/// <summary>
/// The manifest's signed <c>drift</c> object: baseline histograms of the monitored input features and of the outputs,
/// and the thresholds (docs/drift.md). Absent from a manifest means no drift monitoring.
/// </summary>
public sealed record DriftBaseline
{
    public const int DefaultBins = 10;

    /// <summary>Most bins per numeric distribution a manifest may declare.</summary>
    public const int MaxBins = 1000;

    /// <summary>Most classes per categorical distribution (distinct values of an integer output).</summary>
    public const int MaxClasses = 256;

    /// <summary>Most monitored distributions (features and outputs together).</summary>
    public const int MaxDistributions = 4096;

    /// <summary>Rows (samples) the baseline was computed from.</summary>
    [JsonPropertyName("samples")] public long Samples { get; init; }

    /// <summary>Quantile bins asked for per numeric distribution (ties can leave fewer).</summary>
    [JsonPropertyName("bins")] public int Bins { get; set; } = DefaultBins;

    [JsonPropertyName("features")] public IReadOnlyList<DriftDistribution> Features { get; set; } = [];

    [JsonPropertyName("outputs")] public IReadOnlyList<DriftDistribution> Outputs { get; set; } = [];

    [JsonPropertyName("thresholds")] public DriftThresholds Thresholds { get; set; } = DriftThresholds.Default;
}
