using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeAgent.Fleet.Rollouts;

/// <summary>One target of a rollout, as stored in the rollout state.</summary>
public sealed record RolloutDevice
{
    public static readonly RolloutDevice Pending = new() { Status = RolloutDeviceStatus.Pending };

    /// <summary><see cref="RolloutDeviceStatus"/>.</summary>
    public required string Status { get; init; }

    /// <summary>The wave (1-based) that targeted the device; null while pending.</summary>
    public int? Wave { get; init; }

    /// <summary>When the rollout wrote (or was about to write) the device's desired state.</summary>
    public DateTimeOffset? Targeted { get; init; }

    /// <summary>The device fails with <c>timeout</c> when it has not succeeded by then.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>The device's retained desired document before the rollout touched it; null when there was none.</summary>
    public JsonElement? PreviousDesired { get; init; }

    /// <summary>Why it failed (the device's reason, or <c>timeout</c>).</summary>
    public string? Reason { get; init; }

    /// <summary>True once an abort wrote its previous desired entry back.</summary>
    public bool? Restored { get; init; }

    public DateTimeOffset? Updated { get; init; }

    [JsonIgnore]
    public bool IsTargeted => Status != RolloutDeviceStatus.Pending;
}
