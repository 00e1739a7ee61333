namespace EdgeAgent.Agent.Options;

/// <summary>Section <c>Telemetry</c>.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>Length of a metrics window; one outbox record per model per window.</summary>
    public double WindowSeconds { get; set; } = 10;

    /// <summary>Folder of the kernel's thermal zones; health reports the hottest as <c>temperatureC</c> (absent when none reads).</summary>
    public string ThermalDirectory { get; set; } = Telemetry.ThermalZones.DefaultDirectory;

    /// <summary>Seconds between heartbeats on <c>{p}/devices/{id}/health</c>.</summary>
    public double HealthIntervalSeconds { get; set; } = 30;

    /// <summary>Records the outbox keeps while the broker is unreachable; beyond it the oldest are dropped and counted.</summary>
    public int OutboxMaxRecords { get; set; } = 100_000;
}
