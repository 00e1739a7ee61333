namespace EdgeAgent.Core.Deployment;

/// <summary>What a version in probation may not do (config keys <c>Agent:ProbationMaxErrorRateIncrease</c>, <c>Agent:ProbationMaxLatencyRatio</c>, <c>Agent:ProbationMinRequests</c>).</summary>
public sealed record ProbationLimits
{
    /// <summary>Error rate allowed above the previous version's (0.05 = five percentage points).</summary>
    public double MaxErrorRateIncrease { get; init; } = 0.05;

    /// <summary>p95 latency allowed as a multiple of the previous version's p95.</summary>
    public double MaxLatencyRatio { get; init; } = 3.0;

    /// <summary>Latency added to the limit so that sub-millisecond noise never rolls a model back.</summary>
    public double LatencySlackMs { get; init; } = 5;

    /// <summary>Requests needed before error rate and latency are judged (NaN/Inf outputs are judged from the first).</summary>
    public int MinRequests { get; init; } = 20;
}
