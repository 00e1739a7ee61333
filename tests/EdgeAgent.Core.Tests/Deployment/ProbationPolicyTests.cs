using EdgeAgent.Core.Deployment;

namespace EdgeAgent.Core.Tests.Deployment;

public sealed class ProbationPolicyTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Ends = Start.AddMinutes(5);
    private static readonly DateTimeOffset During = Start.AddMinutes(1);
    private static readonly ProbationLimits Limits = new();

    private static ProbationVerdict Judge(ProbationStats candidate, ProbationStats? baseline, DateTimeOffset? now = null, int requestTarget = 0, ProbationLimits? limits = null) =>
        ProbationPolicy.Evaluate(candidate, baseline, limits ?? Limits, now ?? During, Ends, requestTarget);

    [Fact]
    public void Default_limits_are_five_points_three_times_five_ms_and_twenty_requests()
    {
        Assert.Equal(0.05, Limits.MaxErrorRateIncrease);
        Assert.Equal(3.0, Limits.MaxLatencyRatio);
        Assert.Equal(5, Limits.LatencySlackMs);
        Assert.Equal(20, Limits.MinRequests);
    }

    [Fact]
    public void Error_rate_is_errors_over_requests_and_zero_without_requests()
    {
        Assert.Equal(0.25, new ProbationStats(8, 2, 0, 1).ErrorRate);
        Assert.Equal(0, new ProbationStats(0, 0, 0, 0).ErrorRate);
    }

    [Fact]
    public void A_single_NaN_output_breaches_from_the_first_request()
    {
        var verdict = Judge(new ProbationStats(1, 0, 1, 2), new ProbationStats(1000, 0, 0, 2));

        Assert.Equal(ProbationOutcome.Breached, verdict.Outcome);
        Assert.StartsWith("1 of 1 responses held NaN or Inf outputs; ", verdict.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void NaN_outputs_breach_even_when_probation_would_pass()
    {
        var candidate = new ProbationStats(500, 0, 3, 2);

        Assert.Equal(ProbationOutcome.Breached, Judge(candidate, null, now: Ends).Outcome);
        Assert.Equal(ProbationOutcome.Breached, Judge(candidate, null, requestTarget: 100).Outcome);
        Assert.Contains("3 of 500 responses", Judge(candidate, null).Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Error_rate_is_not_judged_before_the_minimum_request_count()
    {
        var verdict = Judge(new ProbationStats(19, 19, 0, 1), new ProbationStats(100, 0, 0, 1));

        Assert.Equal(ProbationOutcome.Continue, verdict.Outcome);
    }

    [Fact]
    public void Error_rate_is_judged_once_the_minimum_request_count_is_reached()
    {
        var verdict = Judge(new ProbationStats(20, 2, 0, 1), new ProbationStats(100, 0, 0, 1));

        Assert.Equal(ProbationOutcome.Breached, verdict.Outcome);
        Assert.StartsWith("error rate 10.0% is more than 5.0 points above the previous version's 0.0%; ", verdict.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void The_minimum_request_count_comes_from_the_limits()
    {
        var limits = new ProbationLimits { MinRequests = 5 };

        Assert.Equal(ProbationOutcome.Breached, Judge(new ProbationStats(5, 1, 0, 1), null, limits: limits).Outcome);
        Assert.Equal(ProbationOutcome.Continue, Judge(new ProbationStats(4, 1, 0, 1), null, limits: limits).Outcome);
    }

    [Fact]
    public void At_the_deadline_the_error_rate_is_judged_with_fewer_requests()
    {
        var candidate = new ProbationStats(5, 1, 0, 1);

        Assert.Equal(ProbationOutcome.Continue, Judge(candidate, null).Outcome);
        var verdict = Judge(candidate, null, now: Ends);
        Assert.Equal(ProbationOutcome.Breached, verdict.Outcome);
        Assert.StartsWith("error rate 20.0%", verdict.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Probation_without_any_request_passes_at_the_deadline()
    {
        var verdict = Judge(new ProbationStats(0, 0, 0, 0), new ProbationStats(100, 0, 0, 3), now: Ends);

        Assert.Equal(ProbationOutcome.Passed, verdict.Outcome);
    }

    [Fact]
    public void A_baseline_with_the_same_error_rate_passes()
    {
        var baseline = new ProbationStats(100, 20, 0, 1);
        var candidate = new ProbationStats(40, 8, 0, 1);

        Assert.Equal(ProbationOutcome.Continue, Judge(candidate, baseline).Outcome);
        Assert.Equal(ProbationOutcome.Passed, Judge(candidate, baseline, now: Ends).Outcome);
    }

    [Fact]
    public void Error_rate_is_measured_against_the_baselines_rate_plus_the_allowed_increase()
    {
        var baseline = new ProbationStats(100, 10, 0, 1);

        Assert.Equal(ProbationOutcome.Continue, Judge(new ProbationStats(50, 7, 0, 1), baseline).Outcome);

        var verdict = Judge(new ProbationStats(50, 8, 0, 1), baseline);
        Assert.Equal(ProbationOutcome.Breached, verdict.Outcome);
        Assert.StartsWith("error rate 16.0% is more than 5.0 points above the previous version's 10.0%", verdict.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_baseline_the_previous_error_rate_counts_as_zero()
    {
        Assert.Equal(ProbationOutcome.Breached, Judge(new ProbationStats(20, 2, 0, 1), null).Outcome);
        Assert.Equal(ProbationOutcome.Continue, Judge(new ProbationStats(20, 1, 0, 1), null).Outcome);
    }

    [Fact]
    public void P95_beyond_the_baseline_times_the_ratio_plus_the_slack_breaches()
    {
        var baseline = new ProbationStats(100, 0, 0, 10);

        var verdict = Judge(new ProbationStats(20, 0, 0, 36), baseline);

        Assert.Equal(ProbationOutcome.Breached, verdict.Outcome);
        Assert.StartsWith("p95 latency 36 ms is over the limit of 35 ms (3x the previous version's 10 ms + 5 ms); ", verdict.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void P95_at_the_limit_does_not_breach()
    {
        var verdict = Judge(new ProbationStats(20, 0, 0, 35), new ProbationStats(100, 0, 0, 10));

        Assert.Equal(ProbationOutcome.Continue, verdict.Outcome);
    }

    [Fact]
    public void Latency_limit_follows_the_configured_ratio_and_slack()
    {
        var limits = new ProbationLimits { MaxLatencyRatio = 1.5, LatencySlackMs = 0.5 };
        var baseline = new ProbationStats(100, 0, 0, 10);

        Assert.Equal(ProbationOutcome.Continue, Judge(new ProbationStats(20, 0, 0, 15.5), baseline, limits: limits).Outcome);
        var verdict = Judge(new ProbationStats(20, 0, 0, 15.6), baseline, limits: limits);
        Assert.Equal(ProbationOutcome.Breached, verdict.Outcome);
        Assert.Contains("limit of 15.5 ms (1.5x the previous version's 10 ms + 0.5 ms)", verdict.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Latency_is_not_judged_when_the_baseline_has_no_latency()
    {
        var slow = new ProbationStats(50, 0, 0, 5000);

        Assert.Equal(ProbationOutcome.Continue, Judge(slow, new ProbationStats(0, 0, 0, 0)).Outcome);
        Assert.Equal(ProbationOutcome.Continue, Judge(slow, null).Outcome);
        Assert.Equal(ProbationOutcome.Passed, Judge(slow, null, now: Ends).Outcome);
    }

    [Fact]
    public void Latency_is_judged_only_once_enough_requests_were_served_without_error()
    {
        // 30% errors before and after: the error rate passes; 19 or 20 requests were served.
        var baseline = new ProbationStats(100, 30, 0, 10);

        Assert.Equal(ProbationOutcome.Continue, Judge(new ProbationStats(27, 8, 0, 100), baseline).Outcome);
        Assert.Equal(ProbationOutcome.Breached, Judge(new ProbationStats(28, 8, 0, 100), baseline).Outcome);
    }

    [Fact]
    public void Latency_is_not_judged_at_the_deadline_with_fewer_requests_than_the_minimum()
    {
        var verdict = Judge(new ProbationStats(5, 0, 0, 1000), new ProbationStats(100, 0, 0, 10), now: Ends);

        Assert.Equal(ProbationOutcome.Passed, verdict.Outcome);
    }

    [Fact]
    public void Probation_passes_when_its_time_is_up()
    {
        var candidate = new ProbationStats(50, 0, 0, 10);
        var baseline = new ProbationStats(50, 0, 0, 10);

        Assert.Equal(ProbationOutcome.Continue, Judge(candidate, baseline, now: Ends.AddTicks(-1)).Outcome);
        Assert.Equal(ProbationOutcome.Passed, Judge(candidate, baseline, now: Ends).Outcome);
        Assert.Equal(ProbationOutcome.Passed, Judge(candidate, baseline, now: Ends.AddHours(1)).Outcome);
    }

    [Fact]
    public void Probation_passes_early_once_the_request_target_is_reached()
    {
        var baseline = new ProbationStats(50, 0, 0, 10);

        Assert.Equal(ProbationOutcome.Continue, Judge(new ProbationStats(99, 0, 0, 10), baseline, requestTarget: 100).Outcome);
        Assert.Equal(ProbationOutcome.Passed, Judge(new ProbationStats(100, 0, 0, 10), baseline, requestTarget: 100).Outcome);
        Assert.Equal(ProbationOutcome.Passed, Judge(new ProbationStats(150, 0, 0, 10), baseline, requestTarget: 100).Outcome);
    }

    [Fact]
    public void Without_a_request_target_probation_runs_until_its_time_is_up()
    {
        var verdict = Judge(new ProbationStats(1_000_000, 0, 0, 10), new ProbationStats(50, 0, 0, 10), requestTarget: 0);

        Assert.Equal(ProbationOutcome.Continue, verdict.Outcome);
    }

    [Fact]
    public void A_breach_wins_over_a_reached_request_target()
    {
        var verdict = Judge(new ProbationStats(100, 50, 0, 10), null, requestTarget: 100);

        Assert.Equal(ProbationOutcome.Breached, verdict.Outcome);
    }

    [Fact]
    public void Summary_carries_the_numbers_of_both_versions()
    {
        var verdict = Judge(new ProbationStats(20, 1, 0, 12.3456), new ProbationStats(100, 2, 0, 7.5));

        Assert.Equal(ProbationOutcome.Continue, verdict.Outcome);
        Assert.Equal("requests 20, errors 1, NaN/Inf 0, p95 12.346 ms (previous version: requests 100, errors 2, p95 7.5 ms)", verdict.Summary);
    }

    [Fact]
    public void Summary_without_a_baseline_shows_zeros_for_the_previous_version()
    {
        var verdict = Judge(new ProbationStats(3, 0, 0, 4), null, now: Ends);

        Assert.Equal(ProbationOutcome.Passed, verdict.Outcome);
        Assert.Equal("requests 3, errors 0, NaN/Inf 0, p95 4 ms (previous version: requests 0, errors 0, p95 0 ms)", verdict.Summary);
    }

    [Fact]
    public void Breach_messages_end_with_the_summary()
    {
        var verdict = Judge(new ProbationStats(2, 0, 2, 1.5), new ProbationStats(10, 1, 0, 2));

        Assert.Equal(
            "2 of 2 responses held NaN or Inf outputs; requests 2, errors 0, NaN/Inf 2, p95 1.5 ms (previous version: requests 10, errors 1, p95 2 ms)",
            verdict.Summary);
    }

    [Fact]
    public void Missing_candidate_or_limits_are_refused()
    {
        Assert.Throws<ArgumentNullException>(() => ProbationPolicy.Evaluate(null!, null, Limits, During, Ends, 0));
        Assert.Throws<ArgumentNullException>(() => ProbationPolicy.Evaluate(new ProbationStats(0, 0, 0, 0), null, null!, During, Ends, 0));
    }
}
