using System.Text.Json.Serialization;

namespace EdgeAgent.Agent.Telemetry;

/// <summary>The outbox as health, <c>/v1/status</c> and <c>/v1/metrics</c> report it (docs/mqtt-api.md#health).</summary>
public sealed record OutboxStatus(
    [property: JsonPropertyName("depth")] long Depth,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("maxBytes")] long MaxBytes,
    [property: JsonPropertyName("dropped")] OutboxDrops Dropped,
    [property: JsonPropertyName("delivered")] long Delivered,
    [property: JsonPropertyName("lastSeq")] long LastSeq);

/// <summary>Records dropped per class since the outbox file was created (persisted in it).</summary>
public sealed record OutboxDrops(
    [property: JsonPropertyName("alert")] long Alert,
    [property: JsonPropertyName("event")] long Event,
    [property: JsonPropertyName("drift")] long Drift,
    [property: JsonPropertyName("metrics")] long Metrics)
{
    [JsonIgnore]
    public long Total => Alert + Event + Drift + Metrics;
}
