using EdgeAgent.Fleet.FleetStatus;

namespace EdgeAgent.Cli.Dashboard;

/// <summary>One device in the dashboard's fleet table: <see cref="FleetView.Build"/>'s row plus heartbeat, drift and resources.</summary>
internal sealed record DeviceRow
{
    public required string Device { get; init; }

    /// <summary><c>online</c>, <c>offline</c>, <c>stale</c> or <c>unknown</c> (<see cref="FleetView.Classify"/>).</summary>
    public required string State { get; init; }

    public required bool Healthy { get; init; }

    public string? Connection { get; init; }

    public double? HeartbeatAgeSeconds { get; init; }

    public double? HeartbeatIntervalSeconds { get; init; }

    /// <summary>The last heartbeat's <c>timestamp</c>; the page ticks the age from it.</summary>
    public DateTimeOffset? LastHeartbeat { get; init; }

    public string? AgentVersion { get; init; }

    public string? DeviceType { get; init; }

    public IReadOnlyList<string> Groups { get; init; } = [];

    public IReadOnlyList<FleetDeviceModel> Models { get; init; } = [];

    public IReadOnlyList<DeviceDrift> Drift { get; init; } = [];

    public double? CpuPercent { get; init; }

    public long? RssBytes { get; init; }

    public long? OutboxDepth { get; init; }

    public static DeviceRow From(FleetDevice row, DateTimeOffset? lastHeartbeat, IReadOnlyList<DeviceDrift> drift, double? cpuPercent, long? rssBytes, long? outboxDepth)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new DeviceRow
        {
            Device = row.Device,
            State = row.State,
            Healthy = row.Healthy,
            Connection = row.Connection,
            HeartbeatAgeSeconds = row.HeartbeatAgeSeconds,
            HeartbeatIntervalSeconds = row.HeartbeatIntervalSeconds,
            LastHeartbeat = lastHeartbeat,
            AgentVersion = row.AgentVersion,
            DeviceType = row.DeviceType,
            Groups = row.Groups,
            Models = row.Models,
            Drift = drift,
            CpuPercent = cpuPercent,
            RssBytes = rssBytes,
            OutboxDepth = outboxDepth,
        };
    }
}
