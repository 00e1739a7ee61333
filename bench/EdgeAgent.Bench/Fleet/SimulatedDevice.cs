using EdgeAgent.Agent;
using EdgeAgent.Agent.Deployment;
using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Core.Deployment;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeAgent.Bench.Fleet;

/// <summary>One simulated device: a whole agent host (its own MQTT connection, state, planner, fetcher, verifier, reporter) and what the simulation watches of it.</summary>
public sealed class SimulatedDevice
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, double> _activeAt = new(StringComparer.Ordinal);
    private readonly Func<double> _clock;

    public SimulatedDevice(string id, string deviceType, bool failing, WebApplication host, string model, Func<double> clock)
    {
        Id = id;
        DeviceType = deviceType;
        Failing = failing;
        Host = host;
        _clock = clock;
        Mqtt = host.Services.GetRequiredService<MqttSession>();
        Fetcher = host.Services.GetRequiredService<ChunkFetcher>();
        host.Services.GetRequiredService<DeploymentStore>().Changed += (_, record) =>
        {
            if (record.Name != model)
            {
                return;
            }

            lock (_lock)
            {
                State = record.State;
                ActiveVersion = record.ActiveVersion;
                Reason = record.Reason;
                if (record.State == DeploymentStates.Active && record.ActiveVersion is { } version)
                {
                    _activeAt[version] = _clock();
                }
            }
        };
    }

    public string Id { get; }

    public string DeviceType { get; }

    /// <summary>Chosen (seeded) to fail the typed bundle: its device type is not the one the bundle is signed for.</summary>
    public bool Failing { get; }

    public WebApplication Host { get; }

    public MqttSession Mqtt { get; }

    public ChunkFetcher Fetcher { get; }

    public string? State { get; private set; }

    public string? ActiveVersion { get; private set; }

    public string? Reason { get; private set; }

    public bool IsActive(string version)
    {
        lock (_lock)
        {
            return State == DeploymentStates.Active && ActiveVersion == version;
        }
    }

    /// <summary>When (simulation clock, seconds) this device last became Active on <paramref name="version"/>.</summary>
    public double? ActiveAt(string version)
    {
        lock (_lock)
        {
            return _activeAt.TryGetValue(version, out var t) ? t : null;
        }
    }
}
