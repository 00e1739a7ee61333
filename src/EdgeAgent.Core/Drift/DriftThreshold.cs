using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Drift;

/// <summary>A statistic raises drift at or above <see cref="Raise"/> and clears below <see cref="Clear"/> (hysteresis: Clear ≤ Raise).</summary>
public sealed record DriftThreshold(
    [property: JsonPropertyName("raise")] double Raise,
    [property: JsonPropertyName("clear")] double Clear);
