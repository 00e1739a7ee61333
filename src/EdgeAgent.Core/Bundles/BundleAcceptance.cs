using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Bundles;

/// <summary>
/// The manifest's <c>acceptance</c> field: which bundle file holds the acceptance vectors, how close outputs must be,
/// and how many warm-up runs a device makes while staging (docs/bundle-format.md#acceptance).
/// </summary>
public sealed record BundleAcceptance
{
    /// <summary>Absolute and relative tolerance when none is given: |got − expected| ≤ 1e-4 · (1 + |expected|).</summary>
    public const double DefaultTolerance = 1e-4;

    public const int DefaultWarmupRuns = 3;

    public const int MaxWarmupRuns = 100;

    /// <summary>Largest acceptance file a device reads (and <c>edgectl bundle create</c> attaches).</summary>
    public const long MaxFileBytes = 1024 * 1024;

    /// <summary>Path (within the manifest's files) of the acceptance file; null for warm-up only.</summary>
    [JsonPropertyName("file")] public string? File { get; init; }

    /// <summary>Absolute and relative tolerance for floating-point outputs; a vector may override it.</summary>
    [JsonPropertyName("tolerance")] public double Tolerance { get; set; } = DefaultTolerance;

    [JsonPropertyName("warmupRuns")] public int WarmupRuns { get; set; } = DefaultWarmupRuns;
}
