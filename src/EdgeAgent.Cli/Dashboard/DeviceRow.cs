using System.Diagnostics.CodeAnalysis;
using EdgeAgent.Fleet.FleetStatus;

namespace EdgeAgent.Cli.Dashboard;

/// <summary>One device in the dashboard's fleet table: <see cref="FleetView.Build"/>'s row plus heartbeat, drift and resources.</summary>
internal sealed record DeviceRow : FleetDevice
{
    [SetsRequiredMembers]
    private DeviceRow(FleetDevice row)
        : base(row)
    {
    }

    /// <summary>The last heartbeat's <c>timestamp</c>; the page ticks the age from it.</summary>
    public DateTimeOffset? LastHeartbeat { get; init; }

    public IReadOnlyList<DeviceDrift> Drift { get; init; } = [];

    public double? CpuPercent { get; init; }

    public long? RssBytes { get; init; }

    public long? OutboxDepth { get; init; }

    public static DeviceRow From(FleetDevice row, DateTimeOffset? lastHeartbeat, IReadOnlyList<DeviceDrift> drift, double? cpuPercent, long? rssBytes, long? outboxDepth)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new DeviceRow(row)
        {
            LastHeartbeat = lastHeartbeat,
            Drift = drift,
            CpuPercent = cpuPercent,
            RssBytes = rssBytes,
            OutboxDepth = outboxDepth,
        };
    }
}
