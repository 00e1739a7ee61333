using System.Diagnostics;
using System.Text.Json;
using EdgeAgent.Agent.Deployment;
using EdgeAgent.Agent.Hardware;
using EdgeAgent.Agent.Json;
using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Telemetry;

/// <summary>
/// Heartbeat on <c>{p}/devices/{id}/health</c> (retained, so a fleet view started later sees the last one and its age):
/// resources, per-model rates and latency, outbox depth, MQTT reconnects, GPIO and the reconcile loop's watchdog (a
/// watchdog failure and the recovery from it are published at once, not at the next interval).
/// </summary>
public sealed class HealthReporter : BackgroundService
{
    private readonly MqttSession _mqtt;
    private readonly InferenceMeter _meter;
    private readonly Outbox _outbox;
    private readonly DeploymentStore _deployments;
    private readonly Serving.ModelCatalog _catalog;
    private readonly AgentOptions _agent;
    private readonly TimeSpan _interval;
    private readonly string _thermalDirectory;
    private readonly TimeProvider _time;
    private readonly ILogger<HealthReporter> _logger;
    private readonly DateTimeOffset _started;
    private readonly GpioPort _gpio;
    private readonly ReconcileWatchdog _watchdog;
    private readonly Drift.DriftMonitor _drift;
    private readonly WakeSignal _now = new();
    private readonly Lock _snapshotGate = new();
    private TimeSpan _lastCpu;
    private long _lastTimestamp;
    private long _sent;

    public HealthReporter(MqttSession mqtt, InferenceMeter meter, Outbox outbox, DeploymentStore deployments, Serving.ModelCatalog catalog, IOptions<AgentOptions> agent, IOptions<TelemetryOptions> telemetry, GpioPort gpio, ReconcileWatchdog watchdog, Drift.DriftMonitor drift, TimeProvider time, ILogger<HealthReporter> logger)
    {
        ArgumentNullException.ThrowIfNull(agent);
        ArgumentNullException.ThrowIfNull(telemetry);
        ArgumentNullException.ThrowIfNull(watchdog);
        _mqtt = mqtt;
        _meter = meter;
        _outbox = outbox;
        _deployments = deployments;
        _catalog = catalog;
        _agent = agent.Value;
        _interval = TimeSpan.FromSeconds(telemetry.Value.HealthIntervalSeconds);
        _thermalDirectory = telemetry.Value.ThermalDirectory;
        _time = time;
        _logger = logger;
        _started = time.GetUtcNow();
        _gpio = gpio;
        _drift = drift;
        _watchdog = watchdog;
        _watchdog.Stalled += OnWatchdogStalled;
        _watchdog.Recovered += OnWatchdogRecovered;
    }

    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Publishes a health message now, besides the periodic ones (e.g. a GPIO <c>report-now</c> input).</summary>
    public void PublishNow() => _now.Wake();

    public override void Dispose()
    {
        _watchdog.Stalled -= OnWatchdogStalled;
        _watchdog.Recovered -= OnWatchdogRecovered;
        _now.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var onDemand = OnDemandAsync(stoppingToken);
        using var timer = new PeriodicTimer(_interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await PublishAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }

        await onDemand;
    }

    private async Task OnDemandAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (await _now.WaitAsync(Timeout.InfiniteTimeSpan, stoppingToken))
                {
                    await PublishAsync(stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task PublishAsync(CancellationToken stoppingToken)
    {
        try
        {
            await PublishSnapshotAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.ServiceError(_logger, nameof(HealthReporter), ex);
        }
    }

    /// <summary>
    /// Takes a snapshot and publishes it now (while connected); returns the heartbeat as published, and whether the
    /// broker acknowledged it (the remote command <c>report-now</c> answers with it).
    /// </summary>
    public async Task<(byte[] Payload, bool Published)> PublishSnapshotAsync(CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(Snapshot(), AgentJson.Info<HealthSnapshot>());
        var published = _mqtt.IsConnected && await _mqtt.PublishAsync(_mqtt.Topics.Health(_agent.DeviceId), payload, retain: true, cancellationToken);
        if (published)
        {
            Interlocked.Increment(ref _sent);
        }

        return (payload, published);
    }

    public HealthSnapshot Snapshot()
    {
        using var process = Process.GetCurrentProcess();
        var now = Stopwatch.GetTimestamp();
        var cpu = process.TotalProcessorTime;
        double cpuPercent = 0;
        lock (_snapshotGate)
        {
            // The periodic and the on-demand publishes may both take a snapshot.
            if (_lastTimestamp != 0)
            {
                var wall = Stopwatch.GetElapsedTime(_lastTimestamp, now).TotalSeconds;
                // Clamped: CPU time is counted in clock ticks, so a short interval can come out a little above 100.
                cpuPercent = wall > 0 ? Math.Clamp((cpu - _lastCpu).TotalSeconds / wall / Environment.ProcessorCount * 100, 0, 100) : 0;
            }

            _lastCpu = cpu;
            _lastTimestamp = now;
        }
        long? diskFree = null;
        try
        {
            diskFree = new DriveInfo(Path.GetFullPath(_agent.StateDirectory)).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Reported as null.
        }

        var records = _deployments.Snapshot();
        var last = records.Values.OrderByDescending(r => r.Updated).FirstOrDefault();
        return new HealthSnapshot(
            _agent.DeviceId,
            _time.GetUtcNow(),
            _interval.TotalSeconds,
            AgentInfo.Version,
            Math.Round((_time.GetUtcNow() - _started).TotalSeconds, 1),
            Math.Round(cpuPercent, 2),
            process.WorkingSet64,
            diskFree,
            ThermalZones.MaxCelsius(_thermalDirectory),
            _meter.Totals().Select(t => new HealthModel(
                t.Model,
                t.Version,
                _catalog.TryGet(t.Model, out var m) && m is not null ? m.ExecutionProvider : null,
                _catalog.TryGet(t.Model, out var f) && f is not null ? f.ProviderFallback : null,
                t.Requests,
                t.Errors,
                t.RatePerSecond,
                new LatencyPercentiles(t.P50Ms, t.P95Ms, t.P99Ms))),
            _outbox.Status(),
            new MqttCounters(_mqtt.Reconnects, _mqtt.SessionSeq),
            _mqtt.TlsStatus(),
            _gpio.Status(),
            _watchdog.Status(),
            _drift.Status(),
            last is null ? null : new LastDeployment(last.Name, last.TargetVersion, last.State, last.Reason, last.Updated));
    }

    private void OnWatchdogStalled(object? sender, TimeSpan silent) => PublishNow();

    private void OnWatchdogRecovered(object? sender, EventArgs e) => PublishNow();
}
