using EdgeAgent.Core.Desired;

namespace EdgeAgent.Core.Deployment;

/// <summary>Pure: compares desired with current and returns the steps that close the gap. No I/O, no clock.</summary>
public static class DeploymentPlanner
{
    public const int DefaultMaxAttempts = 3;

    /// <param name="now">The time the plan is for: a staged version whose activation time has not come gets no step.</param>
    public static Plan Plan(DesiredState desired, IReadOnlyDictionary<string, ModelRecord> current, int maxAttempts = DefaultMaxAttempts, DateTimeOffset? now = null)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(current);
        var steps = new List<DeploymentStep>();
        foreach (var want in desired.Models)
        {
            current.TryGetValue(want.Name, out var have);
            if (StepFor(want, have, maxAttempts, now) is { } step)
            {
                steps.Add(step);
            }
        }

        foreach (var (name, record) in current.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!desired.Models.Any(m => m.Name == name))
            {
                steps.Add(new DeploymentStep.Unload(name));
            }
        }

        return steps.Count == 0 ? Deployment.Plan.Empty : new Plan(steps);
    }

    private static DeploymentStep? StepFor(DesiredModel want, ModelRecord? have, int maxAttempts, DateTimeOffset? now)
    {
        if (have is { State: DeploymentStates.Probation } && have.TargetVersion == want.Version)
        {
            return new DeploymentStep.Watch(want.Name, want.Version);
        }

        if (have?.ActiveVersion == want.Version)
        {
            return have.State == DeploymentStates.Active ? null : new DeploymentStep.Reactivate(want.Name, want.Version);
        }

        if (have is not null && have.Retained.Contains(want.Version))
        {
            // A version that served here before and is still on disk: no fetch, no probation; it proved itself already.
            return new DeploymentStep.Revert(want.Name, want.Version);
        }

        var sameTarget = have?.TargetVersion == want.Version;
        var attempts = sameTarget ? have!.Attempts : 0;
        if (sameTarget && have!.State == DeploymentStates.Staged && now is { } at && have.ActivateAt is { } activateAt && activateAt > at)
        {
            return null;
        }

        if (sameTarget && have!.State == DeploymentStates.RolledBack && attempts > 0)
        {
            // Rolled back automatically: not retried until the operator publishes desired state again.
            return null;
        }

        var failed = sameTarget && have!.State == DeploymentStates.Failed;
        if (failed && attempts >= maxAttempts && !IsTransient(have!.Reason))
        {
            // Gave up on this version until the operator publishes desired state again (which resets attempts).
            return null;
        }

        if (failed && attempts > 0 && IsPermanent(have!.Reason))
        {
            return null;
        }

        // A staged version waiting for its window keeps its attempt number: going on is not a retry.
        var attempt = sameTarget && have!.State == DeploymentStates.Staged ? Math.Max(1, attempts) : attempts + 1;
        return new DeploymentStep.Deploy(want.Name, want.Version, attempt);
    }

    /// <summary>
    /// Whether the planner will try a <see cref="DeploymentStates.Failed"/> record's version again by itself (the same
    /// rules as <see cref="Plan"/>): a transient failure always, any other until <paramref name="maxAttempts"/>, a
    /// permanent one never. The fleet uses it (<c>retrying</c> in <c>reported</c>) to tell a failure from a retry.
    /// </summary>
    public static bool WillRetry(ModelRecord record, int maxAttempts = DefaultMaxAttempts)
    {
        ArgumentNullException.ThrowIfNull(record);
        return record.State == DeploymentStates.Failed
            && (IsTransient(record.Reason) || (record.Attempts < maxAttempts && !IsPermanent(record.Reason)));
    }

    /// <summary>
    /// Failures of the environment, not of the bundle (nothing published yet, broker away, disk busy or full, a restart
    /// while downloading): retried at the retry interval without an attempt limit, so a rollout survives an outage.
    /// An interruption once the model was loaded (Staging and later) counts as an attempt: a model that crashes the
    /// agent ends Failed after <c>MaxAttempts</c> restarts instead of looping.
    /// </summary>
    public static bool IsTransient(string? reason) =>
        reason is not null && (reason.StartsWith(Bundles.RejectionReason.Timeout, StringComparison.Ordinal)
            || reason.StartsWith("io-error", StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.InsufficientDisk, StringComparison.Ordinal)
            || reason.StartsWith("interrupted while Pending", StringComparison.Ordinal)
            || reason.StartsWith("interrupted while Fetching", StringComparison.Ordinal)
            || reason.StartsWith("interrupted while Verifying", StringComparison.Ordinal)
            || reason.StartsWith("superseded", StringComparison.Ordinal));

    /// <summary>
    /// Trust failures, and a model failing its own acceptance vectors, do not heal by retrying: the same signed bytes
    /// fail the same way.
    /// </summary>
    public static bool IsPermanent(string? reason) =>
        reason is not null && (reason.StartsWith(Bundles.RejectionReason.Unsigned, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.UnknownKey, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.BadSignature, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.BelowThreshold, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.Downgrade, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.WrongPayloadType, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.Expired, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.WrongArchitecture, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.WrongDeviceType, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.UnsafePath, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.NameMismatch, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.VersionMismatch, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.AcceptanceFailed, StringComparison.Ordinal));
}
