namespace EdgeAgent.Cli.Dashboard;

/// <summary>One server-sent event: its name (<c>device</c>, <c>rollout</c>, ...) and its data, JSON serialized once for every client.</summary>
internal sealed record DashboardEvent(string Name, byte[] Data);
