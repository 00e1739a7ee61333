using EdgeAgent.Fleet.Mqtt;
using EdgeAgent.Fleet.Rollouts;

namespace EdgeAgent.Agent.Tests.Infrastructure;

/// <summary>A rollout driver and its own connection (with the driver lease's will), as one edgectl process would hold them.</summary>
public sealed record DriverHandle(FleetConnection Connection, RolloutDriver Driver) : IDisposable
{
    public string Writer => Driver.Writer;

    public event Action<RolloutDocument, string>? Progress
    {
        add => Driver.Progress += value;
        remove => Driver.Progress -= value;
    }

    public Task<RolloutDocument> CreateAsync(RolloutRequest request, CancellationToken cancellationToken) => Driver.CreateAsync(request, cancellationToken);

    public Task<RolloutDocument> DriveAsync(RolloutDocument start, CancellationToken cancellationToken) => Driver.DriveAsync(start, cancellationToken);

    public void Dispose() => Driver.Dispose();
}
