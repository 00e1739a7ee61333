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

    /// <summary>
    /// Byte budget of the outbox (payload bytes plus <see cref="Telemetry.Outbox.RecordOverheadBytes"/> per record); beyond it
    /// the oldest records of the lowest priority class are dropped and counted per class.
    /// </summary>
    public long OutboxMaxBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>A second bound, in records, applied like <see cref="OutboxMaxBytes"/> (kept from before the byte budget).</summary>
    public int OutboxMaxRecords { get; set; } = 100_000;

    /// <summary>Largest payload of one batch the publisher sends (a single larger record is sent alone).</summary>
    public int OutboxBatchMaxBytes { get; set; } = 64 * 1024;
}
