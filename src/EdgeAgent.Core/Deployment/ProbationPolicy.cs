using System.Globalization;

namespace EdgeAgent.Core.Deployment;

/// <summary>
/// Pure: judges a version in probation against the version it replaced. Any NaN/Inf output is a breach; so is an error
/// rate or a p95 latency beyond the limits once enough requests were seen. Probation passes when its time is up, or
/// earlier when a request target is set and reached.
/// </summary>
public static class ProbationPolicy
{
    public static ProbationVerdict Evaluate(ProbationStats candidate, ProbationStats? baseline, ProbationLimits limits, DateTimeOffset now, DateTimeOffset ends, int requestTarget)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(limits);
        var before = baseline ?? new ProbationStats(0, 0, 0, 0);
        var timeUp = now >= ends;
        var enough = candidate.Requests >= limits.MinRequests || (timeUp && candidate.Requests > 0);
        var summary = Summary(candidate, before);
        if (candidate.NonFinite > 0)
        {
            return new(ProbationOutcome.Breached, Format($"{candidate.NonFinite} of {candidate.Requests} responses held NaN or Inf outputs; {summary}"));
        }

        if (enough && candidate.ErrorRate > before.ErrorRate + limits.MaxErrorRateIncrease)
        {
            return new(ProbationOutcome.Breached, Format($"error rate {candidate.ErrorRate * 100:0.0}% is more than {limits.MaxErrorRateIncrease * 100:0.0} points above the previous version's {before.ErrorRate * 100:0.0}%; {summary}"));
        }

        var served = candidate.Requests - candidate.Errors;
        var latencyLimit = (before.P95Ms * limits.MaxLatencyRatio) + limits.LatencySlackMs;
        if (served >= limits.MinRequests && before.P95Ms > 0 && candidate.P95Ms > latencyLimit)
        {
            return new(ProbationOutcome.Breached, Format($"p95 latency {candidate.P95Ms:0.###} ms is over the limit of {latencyLimit:0.###} ms ({limits.MaxLatencyRatio:0.##}x the previous version's {before.P95Ms:0.###} ms + {limits.LatencySlackMs:0.##} ms); {summary}"));
        }

        if (timeUp || (requestTarget > 0 && candidate.Requests >= requestTarget))
        {
            return new(ProbationOutcome.Passed, summary);
        }

        return new(ProbationOutcome.Continue, summary);
    }

    private static string Summary(ProbationStats c, ProbationStats b) =>
        Format($"requests {c.Requests}, errors {c.Errors}, NaN/Inf {c.NonFinite}, p95 {c.P95Ms:0.###} ms (previous version: requests {b.Requests}, errors {b.Errors}, p95 {b.P95Ms:0.###} ms)");

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
