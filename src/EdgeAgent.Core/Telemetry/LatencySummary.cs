using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Telemetry;

public sealed record LatencySummary(
    [property: JsonPropertyName("p50")] double P50,
    [property: JsonPropertyName("p95")] double P95,
    [property: JsonPropertyName("p99")] double P99,
    [property: JsonPropertyName("mean")] double Mean,
    [property: JsonPropertyName("max")] double Max);
