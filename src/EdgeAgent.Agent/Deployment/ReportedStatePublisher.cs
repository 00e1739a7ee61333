using System.Text.Json;
using EdgeAgent.Agent.Json;
using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Deployment;

/// <summary>
/// Publishes the retained <c>{p}/devices/{id}/reported</c> document whenever a deployment record changes, and again
/// after every reconnect, so the fleet always sees the latest state.
/// </summary>
public sealed class ReportedStatePublisher : BackgroundService
{
    private readonly MqttSession _mqtt;
    private readonly DeploymentStore _store;
    private readonly DesiredStateInbox _desired;
    private readonly TrustStore _trust;
    private readonly DeploymentProgress _progress;
    private readonly AgentOptions _agent;
    private readonly TimeProvider _time;
    private readonly WakeSignal _wake = new();
    private readonly ILogger<ReportedStatePublisher> _logger;

    public ReportedStatePublisher(MqttSession mqtt, DeploymentStore store, DesiredStateInbox desired, TrustStore trust, DeploymentProgress progress, IOptions<AgentOptions> agent, TimeProvider time, ILogger<ReportedStatePublisher> logger)
    {
        _logger = logger;
        ArgumentNullException.ThrowIfNull(agent);
        _mqtt = mqtt;
        _store = store;
        _desired = desired;
        _trust = trust;
        _trust.Changed += (_, _) => Wake();
        _progress = progress;
        _progress.Changed += (_, _) => Wake();
        _agent = agent.Value;
        _time = time;
        _store.Changed += (_, _) => Wake();
        _desired.ErrorChanged += (_, _) => Wake();
        _mqtt.Connected += (_, _) => Wake();
    }

    public void Wake() => _wake.Wake();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var dirty = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // A failed publish (broker gone, timeout) is retried soon, not at the next change.
                if (await _wake.WaitAsync(dirty ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(30), stoppingToken))
                {
                    dirty = true;
                }

                if (dirty && _mqtt.IsConnected)
                {
                    var payload = JsonSerializer.SerializeToUtf8Bytes(Document(), AgentJson.Info<ReportedDocument>());
                    dirty = !await _mqtt.PublishAsync(_mqtt.Topics.Reported(_agent.DeviceId), payload, retain: true, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.ServiceError(_logger, nameof(ReportedStatePublisher), ex);
            }
        }
    }

    public ReportedDocument Document() => new(
        _agent.DeviceId,
        AgentInfo.Version,
        _agent.Architecture,
        _agent.DeviceType,
        _agent.Groups,
        _time.GetUtcNow(),
        _desired.LastError,
        _trust.Root is { } root ? new TrustRootSummary(root.Version, root.Threshold, root.Keys.Select(k => k.KeyId)) : null,
        _trust.LastRootError,
        ModelStateReport.Of(_store, _progress, null, _desired, _agent.MaxAttempts));

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }
}
