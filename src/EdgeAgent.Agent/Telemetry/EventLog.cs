using EdgeAgent.Agent.Json;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Deployment;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Telemetry;

/// <summary>
/// Deployment lifecycle events, queued in the outbox for <c>{p}/devices/{id}/events</c>: failures (a deployment
/// <c>Failed</c>, <c>RollingBack</c> or <c>RolledBack</c>, a refused trust root) as class <see cref="OutboxClass.Alert"/>,
/// the rest as <see cref="OutboxClass.Event"/>.
/// </summary>
public sealed class EventLog
{
    public const string Kind = "events";

    private readonly Outbox _outbox;
    private readonly string _deviceId;
    private readonly TimeProvider _time;

    public EventLog(Outbox outbox, IOptions<AgentOptions> agent, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(agent);
        _outbox = outbox;
        _deviceId = agent.Value.DeviceId;
        _time = time;
    }

    /// <summary>A root taken (<paramref name="refusal"/> null: <c>Active</c>, <paramref name="version"/> the new one) or refused (<c>Failed</c>, the version still in force).</summary>
    public void TrustRoot(int version, string? refusal)
    {
        var timestamp = _time.GetUtcNow();
        var state = refusal is null ? "Active" : "Failed";
        _outbox.Enqueue(refusal is null ? OutboxClass.Event : OutboxClass.Alert, Kind, seq => new TrustRootEvent(seq, _deviceId, "trust-root", version, state, refusal, timestamp));
    }

    /// <summary>Something received from the broker was refused (a malformed or oversized desired-state document, a chunk that fails its hash) and otherwise ignored.</summary>
    public void Rejected(string topic, string reason)
    {
        var timestamp = _time.GetUtcNow();
        _outbox.Enqueue(OutboxClass.Event, Kind, seq => new RejectedEvent(seq, _deviceId, "rejected", topic, reason, timestamp));
    }

    public void Deployment(string model, string version, string state, string? reason = null)
    {
        var timestamp = _time.GetUtcNow();
        var priority = state is DeploymentStates.Failed or DeploymentStates.RollingBack or DeploymentStates.RolledBack ? OutboxClass.Alert : OutboxClass.Event;
        _outbox.Enqueue(priority, Kind, seq => new DeploymentEvent(seq, _deviceId, "deployment", model, version, state, reason, timestamp));
    }
}
