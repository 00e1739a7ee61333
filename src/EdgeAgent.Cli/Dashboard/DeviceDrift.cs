namespace EdgeAgent.Cli.Dashboard;

/// <summary>A model's drift state on one device: from the latest drift record, or the heartbeat's <c>drift</c> list.</summary>
internal sealed record DeviceDrift(string Model, string? Version, string State);
