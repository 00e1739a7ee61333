using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Telemetry;

/// <summary>One window of one model, as published on <c>{p}/devices/{id}/metrics</c>.</summary>
public sealed record MetricsRecord
{
    /// <summary>The device-wide outbox sequence (shared with events and drift); a consumer detects gaps and duplicates with it.</summary>
    [JsonPropertyName("seq")] public long Seq { get; init; }

    [JsonPropertyName("deviceId")] public required string DeviceId { get; init; }

    [JsonPropertyName("model")] public required string Model { get; init; }

    [JsonPropertyName("version")] public required string Version { get; init; }

    [JsonPropertyName("windowStart")] public DateTimeOffset WindowStart { get; init; }

    [JsonPropertyName("windowEnd")] public DateTimeOffset WindowEnd { get; init; }

    [JsonPropertyName("count")] public long Count { get; init; }

    [JsonPropertyName("errors")] public long Errors { get; init; }

    /// <summary>Responses in the window that held a NaN or infinite output.</summary>
    [JsonPropertyName("nonFinite")] public long NonFinite { get; init; }

    [JsonPropertyName("latencyMs")] public required LatencySummary LatencyMs { get; init; }

    /// <summary>Per model input: count, mean, min and max of the finite values of the window's requests (null before any).</summary>
    [JsonPropertyName("inputs")] public IReadOnlyList<ValueSummary>? Inputs { get; init; }

    /// <summary>
    /// Per model output (in model order), statistics of the finite values of numeric tensor outputs over the window's
    /// successful responses; null (omitted) when no response was served. Non-tensor outputs have count 0.
    /// </summary>
    [JsonPropertyName("outputs")] public IReadOnlyList<ValueSummary>? Outputs { get; init; }
}
