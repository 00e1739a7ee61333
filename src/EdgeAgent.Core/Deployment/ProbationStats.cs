namespace EdgeAgent.Core.Deployment;

/// <summary>Traffic figures of one model version: for the candidate in probation, or the version it replaced (the baseline).</summary>
public sealed record ProbationStats(long Requests, long Errors, long NonFinite, double P95Ms)
{
    public double ErrorRate => Requests == 0 ? 0 : (double)Errors / Requests;
}
