namespace EdgeAgent.Fleet.FleetStatus;

/// <summary>One row of <c>edgectl fleet status</c>.</summary>
public record FleetDevice
{
    public required string Device { get; init; }

    /// <summary><c>online</c> (birth seen and a fresh heartbeat), <c>offline</c> (will or shutdown), <c>stale</c> (last heartbeat older than 3 intervals), <c>unknown</c> (no heartbeat seen).</summary>
    public required string State { get; init; }

    /// <summary>True only for <c>online</c> with no model in <c>Failed</c>/<c>RolledBack</c>.</summary>
    public required bool Healthy { get; init; }

    /// <summary>What the retained <c>status</c> says: <c>online</c>, <c>offline</c>, or null when none.</summary>
    public string? Connection { get; init; }

    /// <summary>Seconds since the last heartbeat's timestamp; null when none was seen.</summary>
    public double? HeartbeatAgeSeconds { get; init; }

    public double? HeartbeatIntervalSeconds { get; init; }

    public string? AgentVersion { get; init; }

    public string? DeviceType { get; init; }

    public IReadOnlyList<string> Groups { get; init; } = [];

    public IReadOnlyList<FleetDeviceModel> Models { get; init; } = [];
}
