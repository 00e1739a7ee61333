using System.Text.Json;
using EdgeAgent.Agent.Deployment;
using EdgeAgent.Agent.Hardware;
using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Desired;
using EdgeAgent.Core.Drift;

// The JSON documents the agent writes, as named types for source generation (AgentJsonContext). They replace anonymous
// types one for one: the same properties in the same order with the same types, so the JSON is unchanged (camelCase names
// come from the serializer's naming policy). docs/mqtt-api.md and docs/inference-api.md describe them.
namespace EdgeAgent.Agent.Json;

// ---- Local API (docs/inference-api.md) ----

/// <summary><c>GET /v2/health/live</c>.</summary>
public sealed record LiveAnswer(bool Live);

/// <summary><c>GET /v2/health/ready</c>.</summary>
public sealed record ReadyAnswer(bool Ready, int Models, bool Broker);

/// <summary><c>GET /v2</c>.</summary>
public sealed record ServerMetadata(string Name, string Version, IReadOnlyList<string> Extensions);

/// <summary><c>GET /v2/models/{name}</c>.</summary>
public sealed record ModelMetadata(string Name, IReadOnlyList<string> Versions, string Platform, IReadOnlyList<TensorSpec> Inputs, IReadOnlyList<TensorSpec> Outputs);

/// <summary><c>GET /v2/models/{name}/ready</c>.</summary>
public sealed record ModelReadyAnswer(string Name, bool Ready);

/// <summary>Every error of the local API: <c>{"error": "..."}</c>.</summary>
public sealed record ErrorAnswer(string Error);

/// <summary><c>GET /v1/gpio</c>.</summary>
public sealed record GpioAnswer(bool Enabled, bool Available, bool DryRun, string? Error, string StatusLed, IReadOnlyList<GpioPinInfo> Pins);

/// <summary><c>GET /v1/metrics</c>.</summary>
public sealed record MetricsAnswer(string DeviceId, double WindowSeconds, IReadOnlyList<Core.Telemetry.MetricsRecord> Windows, OutboxStatus Outbox);

/// <summary>One sample of <c>GET /v1/capture</c>.</summary>
public sealed record CaptureSampleAnswer(long Id, string Model, string Version, DateTime At, string Reason, JsonElement Data);

/// <summary><c>GET /v1/capture</c>.</summary>
public sealed record CaptureSamplesAnswer(IEnumerable<CaptureSampleAnswer> Samples, long Next, bool More, int Count, long Bytes, long Dropped);

/// <summary><c>DELETE /v1/capture</c>.</summary>
public sealed record CaptureDeleteAnswer(int Deleted, int Count, long Bytes);

/// <summary><c>DELETE /v1/pins/{name}</c>.</summary>
public sealed record PinAnswer(string Model, bool Pinned);

/// <summary><c>POST /v1/bundles</c> (202).</summary>
public sealed record InstallAnswer(string Model, string Version, bool Pinned);

/// <summary>Latency percentiles in milliseconds.</summary>
public sealed record LatencyPercentiles(double P50, double P95, double P99);

/// <summary>One entry of <c>GET /v1/models</c>.</summary>
public sealed record ModelSummary(string Name, string Version, IReadOnlyList<TensorSpec> Inputs, IReadOnlyList<TensorSpec> Outputs, long Requests, long Errors, double RatePerSecond, LatencyPercentiles LatencyMs);

/// <summary>The <c>broker</c> entry of <c>/v1/status</c>.</summary>
public sealed record BrokerStatus(string Url, bool Connected, long Reconnects, long Session);

/// <summary>One entry of <c>serving</c> in <c>/v1/status</c>.</summary>
public sealed record ServingStatus(string Name, string Version, string ExecutionProvider, string? Fallback, double? WarmupMs, double? LatencySloMs);

/// <summary>The <c>capture</c> entry of <c>/v1/status</c>.</summary>
public sealed record CaptureStatus(bool Enabled, int Samples, long Bytes, long Dropped, long Captured, long Skipped);

/// <summary><c>GET /v1/status</c> (also <c>status.json</c> in a support bundle).</summary>
public sealed record AgentStatus(
    string DeviceId,
    string AgentVersion,
    string Architecture,
    string StateDirectory,
    BrokerStatus Broker,
    BrokerTlsStatus? Tls,
    IReadOnlyList<DesiredModel> Desired,
    string? DesiredError,
    IReadOnlyList<string> Groups,
    IEnumerable<ServingStatus> Serving,
    IReadOnlyList<DesiredModel> Pinned,
    IReadOnlyList<ModelStateReport> Models,
    OutboxStatus Outbox,
    GpioStatus Gpio,
    CaptureStatus Capture,
    IReadOnlyList<DriftModelStatus> Drift,
    WatchdogStatus Watchdog);

// ---- Entries shared by health and status ----

/// <summary>The <c>gpio</c> entry of health and <c>/v1/status</c>.</summary>
public sealed record GpioStatus(bool Enabled, bool Available, bool DryRun, string? Error);

/// <summary>The <c>watchdog</c> entry of health and <c>/v1/status</c>.</summary>
public sealed record WatchdogStatus(string State, double LastBeatSecondsAgo, double TimeoutSeconds);

/// <summary>The server certificate seen in the last broker handshake.</summary>
public sealed record ServerCertificateStatus(string? Subject, DateTimeOffset? Expires, bool Valid, string? Error);

/// <summary>The <c>tls</c> entry of health and <c>/v1/status</c>.</summary>
public sealed record BrokerTlsStatus(DateTimeOffset? ClientCertificateExpires, DateTimeOffset? CaExpires, int? DaysLeft, ServerCertificateStatus? ServerCertificate);

/// <summary>The last scored drift window of a model.</summary>
public sealed record DriftLastWindow(string State, long Count, DateTimeOffset End);

/// <summary>One entry of <c>drift</c> in health and <c>/v1/status</c>.</summary>
public sealed record DriftModelStatus(string Model, string Version, string State, DateTimeOffset Since, DriftLastWindow? LastWindow);

// ---- MQTT payloads (docs/mqtt-api.md) ----

/// <summary>Will and shutdown message on <c>status</c> (<c>reason</c> only at shutdown).</summary>
public sealed record StatusPayload(string State, string DeviceId, long Seq, string? Reason = null);

/// <summary>A model in the birth message.</summary>
public sealed record BirthModel(string Name, string? Version);

/// <summary>Birth message on <c>status</c>.</summary>
public sealed record BirthPayload(string State, string DeviceId, long Seq, string AgentVersion, string Architecture, DateTimeOffset Timestamp, IReadOnlyList<BirthModel> Models);

/// <summary>A model's traffic in the health document.</summary>
public sealed record HealthModel(string Name, string Version, string? ExecutionProvider, string? ExecutionProviderFallback, long Requests, long Errors, double RatePerSecond, LatencyPercentiles LatencyMs);

/// <summary>The <c>mqtt</c> entry of the health document.</summary>
public sealed record MqttCounters(long Reconnects, long Session);

/// <summary>The <c>lastDeployment</c> entry of the health document.</summary>
public sealed record LastDeployment(string Model, string? Version, string State, string? Reason, DateTimeOffset At);

/// <summary>The heartbeat on <c>health</c>.</summary>
public sealed record HealthSnapshot(
    string DeviceId,
    DateTimeOffset Timestamp,
    double IntervalSeconds,
    string AgentVersion,
    double UptimeSeconds,
    double CpuPercent,
    long RssBytes,
    long? DiskFreeBytes,
    double? TemperatureC,
    IEnumerable<HealthModel> Models,
    OutboxStatus Outbox,
    MqttCounters Mqtt,
    BrokerTlsStatus? Tls,
    GpioStatus Gpio,
    WatchdogStatus Watchdog,
    IReadOnlyList<DriftModelStatus> Drift,
    LastDeployment? LastDeployment);

/// <summary>The trust root in force, in the <c>reported</c> document.</summary>
public sealed record TrustRootSummary(int Version, int Threshold, IEnumerable<string> Keys);

/// <summary>The retained <c>reported</c> document.</summary>
public sealed record ReportedDocument(
    string DeviceId,
    string AgentVersion,
    string Architecture,
    string? DeviceType,
    IReadOnlyList<string> Groups,
    DateTimeOffset Updated,
    string? DesiredError,
    TrustRootSummary? TrustRoot,
    string? TrustRootError,
    IReadOnlyList<ModelStateReport> Models);

/// <summary>A trust root taken or refused, on <c>events</c>.</summary>
public sealed record TrustRootEvent(long Seq, string DeviceId, string Type, int Version, string State, string? Reason, DateTimeOffset Timestamp);

/// <summary>Something from the broker refused, on <c>events</c>.</summary>
public sealed record RejectedEvent(long Seq, string DeviceId, string Type, string Topic, string Reason, DateTimeOffset Timestamp);

/// <summary>A deployment step, on <c>events</c>.</summary>
public sealed record DeploymentEvent(long Seq, string DeviceId, string Type, string Model, string Version, string State, string? Reason, DateTimeOffset Timestamp);

/// <summary>A drift window or alert, on <c>drift</c>.</summary>
public sealed record DriftRecord(
    long Seq,
    string Kind,
    string DeviceId,
    string Model,
    string Version,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    long Count,
    string State,
    string? PreviousState,
    IReadOnlyList<DriftEntryReport> Features,
    IReadOnlyList<DriftEntryReport> Outputs);

// ---- Remote command answers ----

/// <summary>The inputs of a captured request.</summary>
public sealed record CaptureExportRequest(JsonElement Inputs);

/// <summary>One sample of <c>capture-export</c>.</summary>
public sealed record CaptureExportSample(long Id, string Model, string Version, DateTime At, string Reason, CaptureExportRequest Request, JsonElement Outputs, JsonElement? Redacted);

/// <summary>The fields of a <c>capture-export</c> answer.</summary>
public sealed record CaptureExportAnswer(IReadOnlyList<CaptureExportSample> Samples, long Next, bool More, int Count, long Dropped, int Purged);

/// <summary>The fields of a <c>report-now</c> answer.</summary>
public sealed record ReportNowAnswer(bool Published, JsonElement Health);

/// <summary>The fields of a <c>support-bundle</c> answer.</summary>
public sealed record SupportBundleAnswer(string FileName, int Bytes, string Sha256, IReadOnlyList<string> Entries, string Bundle);

// ---- Support bundle ----

/// <summary><c>versions.json</c> in a support bundle.</summary>
public sealed record VersionsReport(
    string Agent,
    string Dotnet,
    string Os,
    string Architecture,
    string DeviceArchitecture,
    string? OnnxRuntime,
    string? Mqttnet,
    int ProcessId,
    int ProcessorCount,
    DateTimeOffset Created);
