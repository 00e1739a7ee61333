using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Deployment;

/// <summary>The latest deployment of a model that did not end Active: which version, how it ended and why.</summary>
public sealed record FailureRecord(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("at")] DateTimeOffset At);
