namespace EdgeAgent.Cli.Dashboard;

/// <summary>One heartbeat of a device, for the charts: rates and counts summed over its models, latencies the largest.</summary>
internal sealed record HealthPoint
{
    public required DateTimeOffset T { get; init; }

    public double InferenceRate { get; init; }

    public double? P50Ms { get; init; }

    public double? P95Ms { get; init; }

    public double? P99Ms { get; init; }

    public long Requests { get; init; }

    public long Errors { get; init; }

    public double? CpuPercent { get; init; }

    public long? RssBytes { get; init; }

    public long? OutboxDepth { get; init; }
}
