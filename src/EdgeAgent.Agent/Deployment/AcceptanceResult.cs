namespace EdgeAgent.Agent.Deployment;

/// <summary>What staging proved about a model version: vectors that passed, and how long warm-up runs took on average.</summary>
public sealed record AcceptanceResult(int VectorsPassed, int WarmupRuns, double WarmupMeanMilliseconds);
