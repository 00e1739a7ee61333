using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Telemetry;

/// <summary>Cheap statistics of one tensor's values over a window: finite elements seen, their mean, minimum and maximum.</summary>
public sealed record ValueSummary(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("mean")] double Mean,
    [property: JsonPropertyName("min")] double Min,
    [property: JsonPropertyName("max")] double Max);
