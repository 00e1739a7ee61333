using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Telemetry;

/// <summary>
/// Every <c>Telemetry:WindowSeconds</c>, closes the inference windows and writes one outbox record per model (class
/// <see cref="OutboxClass.Metrics"/>, topic <c>metrics</c>), all of one tick in one transaction. Keeps the last
/// <see cref="RecentCapacity"/> records in memory for <c>GET /v1/metrics</c>.
/// </summary>
public sealed class MetricsWindowService : BackgroundService
{
    public const string Kind = "metrics";

    /// <summary>Windows kept for <c>/v1/metrics</c> (<c>edgectl metrics</c>).</summary>
    public const int RecentCapacity = 100;

    private readonly Queue<MetricsRecord> _recent = new();
    private readonly Lock _recentGate = new();

    private readonly InferenceMeter _meter;
    private readonly Outbox _outbox;
    private readonly string _deviceId;
    private readonly TimeSpan _window;
    private readonly TimeProvider _time;
    private readonly ILogger<MetricsWindowService> _logger;

    public MetricsWindowService(InferenceMeter meter, Outbox outbox, IOptions<AgentOptions> agent, IOptions<TelemetryOptions> telemetry, TimeProvider time, ILogger<MetricsWindowService> logger)
    {
        ArgumentNullException.ThrowIfNull(agent);
        ArgumentNullException.ThrowIfNull(telemetry);
        _meter = meter;
        _outbox = outbox;
        _deviceId = agent.Value.DeviceId;
        _window = TimeSpan.FromSeconds(telemetry.Value.WindowSeconds);
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_window, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    Flush();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // E.g. a full disk: this window is lost (and logged); serving goes on.
                    Log.ServiceError(_logger, nameof(MetricsWindowService), ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the last partial window is flushed in StopAsync.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        Flush();
    }

    public TimeSpan Window => _window;

    /// <summary>Closes the current windows now and queues their records.</summary>
    public void Flush()
    {
        var end = _time.GetUtcNow();
        var windows = _meter.CloseWindows();
        var records = new List<MetricsRecord>(windows.Count);
        _outbox.EnqueueMany(OutboxClass.Metrics, Kind, windows, (seq, window) =>
        {
            var record = window.Close(seq, _deviceId, end);
            records.Add(record);
            return record;
        });
        lock (_recentGate)
        {
            foreach (var record in records)
            {
                _recent.Enqueue(record);
                if (_recent.Count > RecentCapacity)
                {
                    _recent.Dequeue();
                }
            }
        }
    }

    /// <summary>The last <paramref name="limit"/> windows written, oldest first.</summary>
    public IReadOnlyList<MetricsRecord> Recent(int limit)
    {
        lock (_recentGate)
        {
            return [.. _recent.Skip(Math.Max(_recent.Count - limit, 0))];
        }
    }
}
