using EdgeAgent.Core.Desired;

namespace EdgeAgent.Fleet.Mqtt;

/// <summary>Writes a device's retained desired state, merging one model into what is already desired there.</summary>
public static class DesiredStateWriter
{
    public static async Task<DesiredState> SetModelAsync(FleetConnection connection, string deviceId, string model, string version, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var topic = connection.Topics.DeviceDesired(deviceId);
        var existing = await connection.ReadRetainedAsync(topic, TimeSpan.FromSeconds(1), cancellationToken);
        var current = existing is not null && DesiredState.TryParse(existing, out var parsed, out _) ? parsed! : DesiredState.Empty;
        var models = current.Models.Where(m => m.Name != model).Append(new DesiredModel(model, version)).OrderBy(m => m.Name, StringComparer.Ordinal).ToList();
        var next = new DesiredState { Models = models };
        if (!DesiredState.TryParse(next.ToJson(), out _, out var error))
        {
            throw new ArgumentException(error);
        }

        await connection.PublishAsync(topic, next.ToJson(), retain: true, cancellationToken);
        return next;
    }
}
