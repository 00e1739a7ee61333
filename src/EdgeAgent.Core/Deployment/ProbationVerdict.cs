namespace EdgeAgent.Core.Deployment;

public enum ProbationOutcome
{
    /// <summary>Still watching.</summary>
    Continue,

    /// <summary>Probation is over without a breach: the version becomes Active.</summary>
    Passed,

    /// <summary>A limit was broken: roll back to the previous version.</summary>
    Breached,
}

/// <summary>The outcome of a probation check, with the numbers that led to it.</summary>
public sealed record ProbationVerdict(ProbationOutcome Outcome, string Summary);
