namespace EdgeAgent.Agent.Telemetry;

/// <summary>Running totals of one model plus the rate and latency of its last closed window.</summary>
public sealed record ModelTotals(string Model, string Version, long Requests, long Errors, double RatePerSecond, double P50Ms, double P95Ms, double P99Ms);
