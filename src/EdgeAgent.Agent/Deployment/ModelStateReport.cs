using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Core.Deployment;

namespace EdgeAgent.Agent.Deployment;

/// <summary>
/// One model as the device reports it: in <c>reported</c> (without traffic figures) and in <c>/v1/status</c> (with them).
/// </summary>
public sealed record ModelStateReport(string Name, string State, string? Version, string? ActiveVersion, string? Reason, int Attempts, DateTimeOffset Updated)
{
    public long? Requests { get; init; }

    public long? Errors { get; init; }

    public double? RatePerSecond { get; init; }

    public double? P95Ms { get; init; }

    /// <summary>The version a failed probation would roll back to (kept on disk).</summary>
    public string? PreviousVersion { get; init; }

    /// <summary>Every earlier version kept on disk for instant rollback, newest first.</summary>
    public IReadOnlyList<string> Retained { get; init; } = [];

    /// <summary>While fetching: bytes held of the bundle's total.</summary>
    public ProgressReport? Progress { get; init; }

    public DateTimeOffset? ProbationEnds { get; init; }

    public DateTimeOffset? ActivateAt { get; init; }

    public FailureRecord? LastFailure { get; init; }

    /// <summary>In <c>Failed</c>: the device will try this version again by itself (a transient failure, or attempts left).</summary>
    public bool? Retrying { get; init; }

    /// <summary>The version is pinned by a local install (<c>edgectl install</c>): fleet desired state does not apply to this model.</summary>
    public bool? Pinned { get; init; }

    /// <summary>Every model record, by name; with <paramref name="totals"/> the traffic figures are filled in (0 for a model without traffic).</summary>
    public static IReadOnlyList<ModelStateReport> Of(DeploymentStore store, DeploymentProgress? progress = null, IReadOnlyList<ModelTotals>? totals = null, DesiredStateInbox? desired = null, int maxAttempts = DeploymentPlanner.DefaultMaxAttempts)
    {
        ArgumentNullException.ThrowIfNull(store);
        var byModel = totals?.ToDictionary(t => t.Model, StringComparer.Ordinal);
        var pinned = desired?.Local.Models.Select(m => m.Name).ToHashSet(StringComparer.Ordinal) ?? [];
        return [.. store.Snapshot().Values.OrderBy(r => r.Name, StringComparer.Ordinal).Select(r => From(r, progress, byModel, pinned, maxAttempts))];
    }

    private static ModelStateReport From(ModelRecord r, DeploymentProgress? progress, Dictionary<string, ModelTotals>? totals, HashSet<string> pinned, int maxAttempts)
    {
        var fetching = r.State == DeploymentStates.Fetching && progress?.Of(r.Name) is { } p ? new ProgressReport(p.Bytes, p.Total) : null;
        var report = new ModelStateReport(r.Name, r.State, r.TargetVersion, r.ActiveVersion, r.Reason, r.Attempts, r.Updated)
        {
            PreviousVersion = r.PreviousVersion,
            Retained = r.Retained,
            Progress = fetching,
            ProbationEnds = r.ProbationEnds,
            ActivateAt = r.ActivateAt,
            LastFailure = r.LastFailure,
            Retrying = r.State == DeploymentStates.Failed ? DeploymentPlanner.WillRetry(r, maxAttempts) : null,
            Pinned = pinned.Contains(r.Name) ? true : null,
        };
        if (totals is null)
        {
            return report;
        }

        totals.TryGetValue(r.Name, out var t);
        return report with { Requests = t?.Requests ?? 0, Errors = t?.Errors ?? 0, RatePerSecond = t?.RatePerSecond ?? 0, P95Ms = t?.P95Ms ?? 0 };
    }
}
