namespace EdgeAgent.Cli.Dashboard;

/// <summary><c>GET /api/info</c>: which broker, whether control is enabled, whether the broker connection is up.</summary>
internal sealed record DashboardInfo(string Broker, string Prefix, bool ReadOnly, string Version, bool Connected);
