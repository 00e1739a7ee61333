namespace EdgeAgent.Agent.Deployment;

/// <summary>Download progress of a deployment: bytes held of the bundle's total.</summary>
public sealed record ProgressReport(long Bytes, long Total);
