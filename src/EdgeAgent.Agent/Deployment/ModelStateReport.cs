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

    /// <summary>Every model record, by name; with <paramref name="totals"/> the traffic figures are filled in (0 for a model without traffic).</summary>
    public static IReadOnlyList<ModelStateReport> Of(DeploymentStore store, IReadOnlyList<ModelTotals>? totals = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        var byModel = totals?.ToDictionary(t => t.Model, StringComparer.Ordinal);
        return [.. store.Snapshot().Values.OrderBy(r => r.Name, StringComparer.Ordinal).Select(r => From(r, byModel))];
    }

    private static ModelStateReport From(ModelRecord r, Dictionary<string, ModelTotals>? totals)
    {
        var report = new ModelStateReport(r.Name, r.State, r.TargetVersion, r.ActiveVersion, r.Reason, r.Attempts, r.Updated);
        if (totals is null)
        {
            return report;
        }

        totals.TryGetValue(r.Name, out var t);
        return report with { Requests = t?.Requests ?? 0, Errors = t?.Errors ?? 0, RatePerSecond = t?.RatePerSecond ?? 0, P95Ms = t?.P95Ms ?? 0 };
    }
}
