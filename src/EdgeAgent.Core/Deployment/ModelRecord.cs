namespace EdgeAgent.Core.Deployment;

/// <summary>What the device knows about one model: the version serving, the latest deployment attempt and the versions kept for rollback.</summary>
public sealed record ModelRecord
{
    public required string Name { get; init; }

    /// <summary>Version that serves now; null when none does.</summary>
    public string? ActiveVersion { get; init; }

    /// <summary>Version of the latest deployment (equal to <see cref="ActiveVersion"/> once it succeeded).</summary>
    public string? TargetVersion { get; init; }

    public string State { get; set; } = DeploymentStates.Pending;

    public string? Reason { get; init; }

    public int Attempts { get; init; }

    public DateTimeOffset Updated { get; init; }

    /// <summary>Versions that served on this device before the active one and are still on disk, newest first: instant rollback targets.</summary>
    public IReadOnlyList<string> Retained { get; set; } = [];

    /// <summary>The version a failed probation rolls back to (the newest retained one).</summary>
    public string? PreviousVersion => Retained.Count > 0 ? Retained[0] : null;

    /// <summary>While in <see cref="DeploymentStates.Probation"/>: when it started and when it ends at the latest.</summary>
    public DateTimeOffset? ProbationStarted { get; init; }

    public DateTimeOffset? ProbationEnds { get; init; }

    /// <summary>While <see cref="DeploymentStates.Staged"/>: the earliest activation time.</summary>
    public DateTimeOffset? ActivateAt { get; init; }

    public FailureRecord? LastFailure { get; init; }
}
