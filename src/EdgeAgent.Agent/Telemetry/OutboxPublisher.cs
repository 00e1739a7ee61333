using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Options;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Telemetry;

/// <summary>
/// Drains the outbox to <c>{p}/devices/{id}/{topic}</c> with QoS 1, oldest first, in batches: consecutive records of one
/// topic, at most <c>Telemetry:OutboxBatchMaxBytes</c> of payload, published as <c>{"records":[...]}</c> (a lone record
/// as itself). Up to <see cref="MaxInFlight"/> batches wait for their PUBACK at once; a batch is deleted only after its
/// PUBACK. A failed publish (broker gone, timeout) stops the drain and the records not acknowledged are sent again after
/// the next connect, so a consumer may see a record twice (same <c>seq</c>), never a hole that health does not count.
/// </summary>
public sealed class OutboxPublisher : BackgroundService
{
    /// <summary>Batches published and not yet acknowledged (below mosquitto's default <c>max_inflight_messages</c> of 20).</summary>
    public const int MaxInFlight = 8;

    /// <summary>Most records in one batch.</summary>
    public const int MaxBatchRecords = 1000;

    private static readonly byte[] BatchStart = "{\"records\":["u8.ToArray();
    private static readonly byte[] BatchEnd = "]}"u8.ToArray();

    private readonly Outbox _outbox;
    private readonly MqttSession _mqtt;
    private readonly int _maxBatchBytes;
    private readonly WakeSignal _wake = new();
    private readonly ILogger<OutboxPublisher> _logger;

    public OutboxPublisher(Outbox outbox, MqttSession mqtt, IOptions<TelemetryOptions> telemetry, ILogger<OutboxPublisher> logger)
    {
        ArgumentNullException.ThrowIfNull(telemetry);
        _logger = logger;
        _outbox = outbox;
        _mqtt = mqtt;
        _maxBatchBytes = telemetry.Value.OutboxBatchMaxBytes;
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
        var inFlight = new Queue<(IReadOnlyList<OutboxRecord> Batch, Task<bool> Acked)>();
        var failed = false;
        try
        {
            while (true)
            {
                while (!failed && inFlight.Count < MaxInFlight && _mqtt.IsConnected)
                {
                    var batch = _outbox.Take(MaxBatchRecords, _maxBatchBytes);
                    if (batch.Count == 0)
                    {
                        break;
                    }

                    var topic = _mqtt.Topics.Device(_mqtt.DeviceId, batch[0].Topic);
                    inFlight.Enqueue((batch, _mqtt.PublishAsync(topic, Payload(batch), retain: false, cancellationToken)));
                }

                if (inFlight.Count == 0)
                {
                    return;
                }

                var (sent, acked) = inFlight.Dequeue();
                if (await acked)
                {
                    FaultInjection.Hit("outbox-acked");
                    _outbox.Acknowledge(sent);
                }
                else
                {
                    failed = true;
                    Log.OutboxBatchUnacknowledged(_logger, sent.Count, sent[0].Topic, sent[0].Seq, sent[^1].Seq);
                }
            }
        }
        finally
        {
            // Batches still in flight when the drain ends early (cancellation, an unexpected error) keep their records
            // unless their PUBACK came.
            while (inFlight.TryDequeue(out var rest))
            {
                try
                {
                    if (await rest.Acked)
                    {
                        _outbox.Acknowledge(rest.Batch);
                    }
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    Log.OutboxBatchUnacknowledged(_logger, rest.Batch.Count, rest.Batch[0].Topic, rest.Batch[0].Seq, rest.Batch[^1].Seq);
                }
            }

            // Nothing is in flight now: what was taken and not acknowledged is offered again on the next drain.
            _outbox.Rewind();
        }
    }

    /// <summary>One record as itself; several as <c>{"records":[r1,r2,...]}</c>.</summary>
    public static byte[] Payload(IReadOnlyList<OutboxRecord> batch)
    {
        if (batch.Count == 1)
        {
            return batch[0].Payload;
        }

        var length = BatchStart.Length + BatchEnd.Length + batch.Count - 1;
        foreach (var record in batch)
        {
            length += record.Payload.Length;
        }

        var payload = new byte[length];
        var span = payload.AsSpan();
        BatchStart.CopyTo(span);
        var at = BatchStart.Length;
        for (var i = 0; i < batch.Count; i++)
        {
            if (i > 0)
            {
                payload[at++] = (byte)',';
            }

            batch[i].Payload.CopyTo(span[at..]);
            at += batch[i].Payload.Length;
        }

        BatchEnd.CopyTo(span[at..]);
        return payload;
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }
}
