using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeAgent.Core;

namespace EdgeAgent.Fleet.Rollouts;

/// <summary>
/// The state of one rollout, retained on <c>{p}/rollouts/{id}</c> (docs/mqtt-api.md#rollouts). Every change is
/// published before it is acted on, so any edgectl can show, pause, resume or abort it, and a new process can go on
/// where a dead one stopped.
/// </summary>
public sealed record RolloutDocument
{
    public const int MaxBytes = 4 * 1024 * 1024;

    public required string Id { get; init; }

    public required string Model { get; init; }

    public required string Version { get; init; }

    /// <summary>The group the targets were taken from (<c>--group</c>); null for <c>--devices</c>.</summary>
    public string? Group { get; init; }

    /// <summary>Device ids in rollout order.</summary>
    public required IReadOnlyList<string> Targets { get; init; }

    /// <summary>The wave plan as given, e.g. <c>["1","10%","50%","100%"]</c>.</summary>
    public required IReadOnlyList<string> Waves { get; init; }

    /// <summary>Cumulative devices targeted after each wave (<see cref="WavePlan.CumulativeSizes"/>).</summary>
    public required IReadOnlyList<int> WaveSizes { get; init; }

    /// <summary>Fraction (0..1) of a wave's devices that must succeed before the next wave starts.</summary>
    public required decimal SuccessThreshold { get; init; }

    /// <summary>The rollout aborts when more than this fraction (0..1) of the devices targeted so far failed.</summary>
    public required decimal AbortThreshold { get; init; }

    /// <summary>Written as <c>probationSeconds</c> into each desired entry; null leaves the device's own setting.</summary>
    public int? ProbationSeconds { get; init; }

    /// <summary>A targeted device that has not succeeded this many seconds after it was targeted counts as failed.</summary>
    public required double WaveTimeoutSeconds { get; init; }

    /// <summary>
    /// When aborting, also restore devices that succeeded (the default for <c>rollout start</c>: a device keeps the
    /// version it replaced and reverts to it without a download; <c>--keep-succeeded</c> turns it off).
    /// </summary>
    public bool RollbackSucceeded { get; init; }

    /// <summary><see cref="RolloutStates"/>.</summary>
    public required string State { get; init; }

    /// <summary>The wave (1-based) started last; 0 before the first.</summary>
    public int CurrentWave { get; init; }

    /// <summary>Why the rollout aborted (or completed with failures).</summary>
    public string? Reason { get; init; }

    public required IReadOnlyDictionary<string, RolloutDevice> Devices { get; init; }

    public RolloutCounts Counts => RolloutCounts.Of(Devices.Values);

    public required DateTimeOffset Created { get; init; }

    public required DateTimeOffset Updated { get; init; }

    /// <summary>Incremented with every publish.</summary>
    public long Revision { get; init; }

    /// <summary>Who published this revision (an edgectl process id), so a driver can tell its own writes from an operator's.</summary>
    public string? Writer { get; init; }

    [JsonIgnore]
    public bool IsFinal => RolloutStates.IsFinal(State);

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, CoreJson.Options);

    /// <summary>Reads a retained rollout state; throws <see cref="InvalidDataException"/> when it is not one.</summary>
    public static RolloutDocument Parse(ReadOnlySpan<byte> json, string topic)
    {
        try
        {
            var doc = JsonSerializer.Deserialize<RolloutDocument>(json, CoreJson.Options);
            if (doc is null || doc.Targets is null || doc.Devices is null || doc.WaveSizes is null || doc.Id is null)
            {
                throw new InvalidDataException($"the rollout state on {topic} is not valid (fields missing)");
            }

            return doc;
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"the rollout state on {topic} is not valid JSON ({ex.Message})", ex);
        }
    }
}
