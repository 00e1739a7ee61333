namespace EdgeAgent.Core.Deployment;

/// <summary>What the device knows about one model: the version serving and the latest deployment attempt.</summary>
public sealed record ModelRecord
{
    public required string Name { get; init; }

    /// <summary>Version that serves now; null when none does.</summary>
    public string? ActiveVersion { get; init; }

    /// <summary>Version of the latest deployment (equal to <see cref="ActiveVersion"/> once it succeeded).</summary>
    public string? TargetVersion { get; init; }

    public string State { get; init; } = DeploymentStates.Pending;

    public string? Reason { get; init; }

    public int Attempts { get; init; }

    public DateTimeOffset Updated { get; init; }
}
