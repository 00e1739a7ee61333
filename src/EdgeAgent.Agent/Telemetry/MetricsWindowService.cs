using EdgeAgent.Agent.Options;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Telemetry;

/// <summary>
/// Every <c>Telemetry:WindowSeconds</c>, closes the inference windows and writes one outbox record per model (class
/// <see cref="OutboxClass.Metrics"/>, topic <c>metrics</c>), all of one tick in one transaction.
/// </summary>
public sealed class MetricsWindowService : BackgroundService
{
    public const string Kind = "metrics";

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

    /// <summary>Closes the current windows now and queues their records.</summary>
    public void Flush()
    {
        var end = _time.GetUtcNow();
        _outbox.EnqueueMany(OutboxClass.Metrics, Kind, _meter.CloseWindows(), (seq, window) => window.Close(seq, _deviceId, end));
    }
}
