using System.Text;
using EdgeAgent.Agent.Mqtt;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Agent.Telemetry;

/// <summary>Drains the outbox to <c>{p}/devices/{id}/{kind}</c> with QoS 1, oldest first; deletes a record only after its PUBACK.</summary>
public sealed class OutboxPublisher : BackgroundService
{
    private const int BatchSize = 64;

    private readonly Outbox _outbox;
    private readonly MqttSession _mqtt;
    private readonly WakeSignal _wake = new();
    private readonly ILogger<OutboxPublisher> _logger;

    public OutboxPublisher(Outbox outbox, MqttSession mqtt, ILogger<OutboxPublisher> logger)
    {
        _logger = logger;
        _outbox = outbox;
        _mqtt = mqtt;
        _outbox.Added += (_, _) => Wake();
        _mqtt.Connected += (_, _) => Wake();
    }

    private void Wake() => _wake.Wake();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(TimeSpan.FromSeconds(5), stoppingToken);
                await DrainAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.ServiceError(_logger, nameof(OutboxPublisher), ex);
            }
        }
    }

    /// <summary>Publishes what the outbox holds while the broker acknowledges; stops at the first failure.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        while (_mqtt.IsConnected)
        {
            var batch = _outbox.Peek(BatchSize);
            if (batch.Count == 0)
            {
                return;
            }

            foreach (var record in batch)
            {
                var topic = _mqtt.Topics.Device(_mqtt.DeviceId, record.Kind);
                if (!await _mqtt.PublishAsync(topic, Encoding.UTF8.GetBytes(record.Payload), retain: false, cancellationToken))
                {
                    return;
                }

                _outbox.Acknowledge(record.Id);
            }
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }
}
