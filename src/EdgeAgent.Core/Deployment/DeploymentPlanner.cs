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
            if (sameTarget && have!.State == DeploymentStates.Failed && attempts >= maxAttempts)
            {
                // Gave up on this version; a new desired version (or a restart of the operator's rollout) is needed.
                continue;
            }

            if (sameTarget && have!.State == DeploymentStates.Failed && IsPermanent(have.Reason))
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

    /// <summary>Trust failures do not heal by retrying: the same signed bytes fail the same way.</summary>
    public static bool IsPermanent(string? reason) =>
        reason is not null && (reason.StartsWith(Bundles.RejectionReason.Unsigned, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.UnknownKey, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.BadSignature, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.WrongPayloadType, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.Expired, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.WrongArchitecture, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.UnsafePath, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.NameMismatch, StringComparison.Ordinal)
            || reason.StartsWith(Bundles.RejectionReason.VersionMismatch, StringComparison.Ordinal));
}
