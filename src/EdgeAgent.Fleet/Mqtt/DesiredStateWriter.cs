using EdgeAgent.Core.Desired;

namespace EdgeAgent.Fleet.Mqtt;

/// <summary>Writes a device's retained desired state, merging one model into what is already desired there.</summary>
public static class DesiredStateWriter
{
    /// <summary>How long to wait for the retained document before concluding there is none.</summary>
    public static readonly TimeSpan DefaultRetainedWait = TimeSpan.FromSeconds(2);

    public static async Task<DesiredState> SetModelAsync(FleetConnection connection, string deviceId, string model, string version, TimeSpan? retainedWait = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var topic = connection.Topics.DeviceDesired(deviceId);
        // Other models already desired on the device are kept: read what is there first. No answer means nothing is
        // retained; an unreadable document is not silently replaced (that would unload the device's other models).
        var existing = await connection.ReadRetainedAsync(topic, retainedWait ?? DefaultRetainedWait, cancellationToken);
        DesiredState current;
        if (existing is null || existing.Length == 0)
        {
            current = DesiredState.Empty;
        }
        else if (!DesiredState.TryParse(existing, out var parsed, out var problem))
        {
            throw new InvalidDataException($"the desired state retained on {topic} is not valid ({problem}); fix or clear it first (e.g. mosquitto_pub -r -n -t {topic})");
        }
        else
        {
            current = parsed!;
        }
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
