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

    /// <summary>
    /// Longest the reconcile loop may go without progress before it counts as stalled (a watchdog failure: GPIO rule pins
    /// to their safe state, status LED error, <c>watchdog.state</c> <c>stalled</c> in health and status).
    /// </summary>
    public int WatchdogSeconds { get; set; } = 60;

    /// <summary>Disk space kept free beyond the bundle's declared size.</summary>
    public int DiskReserveMegabytes { get; set; } = 64;

    /// <summary>Largest support bundle (<c>.tar.gz</c>) the remote command <c>support-bundle</c> sends over MQTT (as base64, a third more).</summary>
    public int SupportBundleMaxBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Largest request body the local API accepts.</summary>
    public int MaxRequestBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Groups this device belongs to: it also follows <c>{p}/groups/{g}/desired</c> (earlier groups win; its own entry wins over all).</summary>
    public IReadOnlyList<string> Groups { get; set; } = [];

    /// <summary>Versions kept on disk besides the active one, for instant rollback.</summary>
    public int KeepPreviousVersions { get; set; } = 2;

    /// <summary>Most disk the agent's models and downloads may take (0: no budget, only the free-space check).</summary>
    public long DiskBudgetMegabytes { get; set; }

    /// <summary>Download rate cap for chunks (0: as fast as the broker sends).</summary>
    public long MaxFetchBytesPerSecond { get; set; }

    /// <summary>Optional daily UTC window for activations, <c>HH:mm-HH:mm</c> (e.g. <c>02:00-04:00</c>); downloads happen any time.</summary>
    public string? MaintenanceWindow { get; set; }

    /// <summary>How long a new version is watched after activation before it counts as Active (0: no probation).</summary>
    public int ProbationSeconds { get; set; } = 300;

    /// <summary>Requests after which probation may end early (0: time only).</summary>
    public int ProbationRequests { get; set; }

    /// <summary>Error rate allowed above the previous version's during probation (0.05 = five percentage points).</summary>
    public double ProbationMaxErrorRateIncrease { get; set; } = 0.05;

    /// <summary>p95 latency allowed during probation, as a multiple of the previous version's (plus 5 ms).</summary>
    public double ProbationMaxLatencyRatio { get; set; } = 3.0;

    /// <summary>Requests needed before error rate and latency are judged (NaN/Inf outputs count from the first).</summary>
    public int ProbationMinRequests { get; set; } = 20;

    public Core.Deployment.ProbationLimits ProbationLimits() => new()
    {
        MaxErrorRateIncrease = ProbationMaxErrorRateIncrease,
        MaxLatencyRatio = ProbationMaxLatencyRatio,
        MinRequests = ProbationMinRequests,
    };
}
