namespace EdgeAgent.Fleet.Rollouts;

/// <summary>What <c>edgectl rollout start</c> asks for, with the targets already resolved.</summary>
public sealed record RolloutRequest
{
    public required string Id { get; init; }

    public required string Model { get; init; }

    public required string Version { get; init; }

    public required IReadOnlyList<string> Targets { get; init; }

    public string? Group { get; init; }

    public IReadOnlyList<WaveStep> Waves { get; init; } = WavePlan.Parse(WavePlan.DefaultSpec);

    public decimal SuccessThreshold { get; init; } = 0.95m;

    public decimal AbortThreshold { get; init; } = 0.05m;

    public TimeSpan? Probation { get; init; }

    public TimeSpan WaveTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>On abort, also restore devices that succeeded (they switch back to the version they kept, without a download).</summary>
    public bool RollbackSucceeded { get; init; } = true;
}
