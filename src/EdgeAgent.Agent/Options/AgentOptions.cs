using System.Runtime.InteropServices;

namespace EdgeAgent.Agent.Options;

/// <summary>Section <c>Agent</c>.</summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    public string DeviceId { get; set; } = string.Empty;

    public string StateDirectory { get; set; } = "/var/lib/edge-agent";

    public string ApiSocket { get; set; } = "/run/edge-agent/api.sock";

    /// <summary>Optional loopback TCP endpoint for the local API, e.g. <c>127.0.0.1:8080</c>. Off by default.</summary>
    public string? ApiListen { get; set; }

    /// <summary>This device's type (e.g. <c>pump-controller-v2</c>); bundles that name device types must name it.</summary>
    public string? DeviceType { get; set; }

    /// <summary>Architecture this device reports and accepts bundles for; defaults to the running process's.</summary>
    public string Architecture { get; set; } = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();

    /// <summary>How long to wait for a retained manifest or a window of chunks before the attempt fails.</summary>
    public int FetchTimeoutSeconds { get; set; } = 30;

    /// <summary>Attempts per desired version before it stays Failed.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Seconds between retries of a failed deployment.</summary>
    public int RetryIntervalSeconds { get; set; } = 15;

    /// <summary>Disk space kept free beyond the bundle's declared size.</summary>
    public int DiskReserveMegabytes { get; set; } = 64;

    /// <summary>Largest request body the local API accepts.</summary>
    public int MaxRequestBytes { get; set; } = 16 * 1024 * 1024;
}
