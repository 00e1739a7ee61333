using EdgeAgent.Core.Telemetry;

namespace EdgeAgent.Cli.Demo;

/// <summary>
/// One agent of <c>edgectl demo</c>'s fleet: where it lives, and what the demo has seen of it on the broker and through
/// its local API. Fields written from the MQTT callback are guarded by the runner's lock; counters are Interlocked.
/// </summary>
internal sealed class DemoDevice : IDisposable
{
    public DemoDevice(string id, string group, string deviceType, string home)
    {
        Id = id;
        Group = group;
        DeviceType = deviceType;
        Home = home;
        Socket = Path.Combine(home, "api.sock");
    }

    public string Id { get; }

    public string Group { get; }

    public string DeviceType { get; }

    /// <summary>The device's folder: <c>state/</c>, <c>api.sock</c>, <c>agent.log</c>.</summary>
    public string Home { get; }

    public string Socket { get; }

    public AgentApiClient? Client { get; set; }

    public LatencyHistogram Latency { get; } = new();

    /// <summary>Metrics and events records already counted (the sequence runs across both, per device).</summary>
    public SeqLedger Seen { get; } = new();

    public string Status { get; set; } = "-";

    public string ModelState { get; set; } = "-";

    public string? ActiveVersion { get; set; }

    public string? Reason { get; set; }

    public string DriftState { get; set; } = "-";

    public double LastRssMb { get; set; }

    public double LastCpu { get; set; }

    public long OutboxDepth { get; set; }

    /// <summary>Seconds of traffic when the demo first sent it a request; null before.</summary>
    public double? ServingFromSeconds { get; set; }

    public long Inferences;
    public long InferenceErrors;
    public long MetricsDelivered;
    public long InferencesInMetrics;
    public long HealthReports;
    public long Events;
    public long DriftWindows;
    public long DriftAlerts;

    /// <summary>Serving the demo's model: activated (in probation or past it), so simulated traffic may go to it.</summary>
    public bool Serves(string version) => ActiveVersion == version && ModelState is "Probation" or "Active";

    public void Dispose() => Client?.Dispose();
}
