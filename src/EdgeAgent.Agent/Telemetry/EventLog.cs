using System.Text.Json;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Telemetry;

/// <summary>Deployment lifecycle events, queued in the outbox for <c>{p}/devices/{id}/events</c>.</summary>
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
        _outbox.Enqueue(Kind, seq => JsonSerializer.Serialize(new { seq, deviceId = _deviceId, type = "trust-root", version, state, reason = refusal, timestamp }, CoreJson.Options));
    }

    /// <summary>Something received from the broker was refused (a malformed or oversized desired-state document, a chunk that fails its hash) and otherwise ignored.</summary>
    public void Rejected(string topic, string reason)
    {
        var timestamp = _time.GetUtcNow();
        _outbox.Enqueue(Kind, seq => JsonSerializer.Serialize(new { seq, deviceId = _deviceId, type = "rejected", topic, reason, timestamp }, CoreJson.Options));
    }

    public void Deployment(string model, string version, string state, string? reason = null)
    {
        var timestamp = _time.GetUtcNow();
        _outbox.Enqueue(Kind, seq => JsonSerializer.Serialize(
            new { seq, deviceId = _deviceId, type = "deployment", model, version, state, reason, timestamp },
            CoreJson.Options));
    }
}
