using EdgeAgent.Core.Desired;

namespace EdgeAgent.Core.Deployment;

/// <summary>Pure: compares desired with current and returns the steps that close the gap. No I/O, no clock.</summary>
public static class DeploymentPlanner
{
    public const int DefaultMaxAttempts = 3;

    public static Plan Plan(DesiredState desired, IReadOnlyDictionary<string, ModelRecord> current, int maxAttempts = DefaultMaxAttempts)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(current);
        var steps = new List<DeploymentStep>();
        foreach (var want in desired.Models)
        {
            current.TryGetValue(want.Name, out var have);
            if (have?.ActiveVersion == want.Version)
            {
                if (have.State != DeploymentStates.Active)
                {
                    steps.Add(new DeploymentStep.Reactivate(want.Name, want.Version));
                }

                continue;
            }

            var sameTarget = have?.TargetVersion == want.Version;
            var attempts = sameTarget ? have!.Attempts : 0;
            var failed = sameTarget && have!.State == DeploymentStates.Failed;
            if (failed && attempts >= maxAttempts && !IsTransient(have!.Reason))
            {
                // Gave up on this version until the operator publishes desired state again (which resets attempts).
                continue;
            }

            if (failed && attempts > 0 && IsPermanent(have!.Reason))
            {
                continue;
            }

            steps.Add(new DeploymentStep.Deploy(want.Name, want.Version, attempts + 1));
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

    /// <summary>
    /// Failures of the environment, not of the bundle (nothing published yet, broker away, disk busy or full): retried
    /// at the retry interval without an attempt limit, so a rollout survives an outage.
    /// </summary>
    public static bool IsTransient(string? reason) =>
        reason is not null && (reason.StartsWith(Bundles.RejectionReason.Timeout, StringComparison.Ordinal)
            || reason.StartsWith("io-error", StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.InsufficientDisk, StringComparison.Ordinal)
            || reason.StartsWith("interrupted", StringComparison.Ordinal)
            || reason.StartsWith("superseded", StringComparison.Ordinal));

    /// <summary>Trust failures do not heal by retrying: the same signed bytes fail the same way.</summary>
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
            || reason.StartsWith(Bundles.RejectionReason.VersionMismatch, StringComparison.Ordinal));
}
