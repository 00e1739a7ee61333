using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Drift;

/// <summary>
/// One feature or output in a window report: <c>{ "name", "psi", "js", "ks", "state" }</c> as on the drift topic. The
/// statistics are null when the window held no value for it.
/// </summary>
public sealed record DriftEntryReport
{
    [JsonPropertyName("name")] public required string Name { get; init; }

    [JsonPropertyName("psi")] public double? Psi { get; init; }

    [JsonPropertyName("js")] public double? Js { get; init; }

    [JsonPropertyName("ks")] public double? Ks { get; init; }

    /// <summary>This entry's state after the window; <see cref="DriftState.Insufficient"/> when it had too few values (its held state is unchanged).</summary>
    [JsonPropertyName("state")] public DriftState State { get; init; }

    /// <summary>Values binned in the window (NaN excluded).</summary>
    [JsonIgnore] public long Count { get; init; }

    /// <summary>NaN values seen in the window (not binned).</summary>
    [JsonIgnore] public long NaN { get; init; }
}
