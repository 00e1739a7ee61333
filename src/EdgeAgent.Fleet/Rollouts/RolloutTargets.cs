using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Fleet.Rollouts;

/// <summary>Resolves <c>--group G</c>: the devices whose retained <c>reported</c> document lists G in <c>groups</c>, by id.</summary>
public static class RolloutTargets
{
    public static async Task<IReadOnlyList<string>> OfGroupAsync(FleetConnection connection, string group, TimeSpan max, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var reported = await RetainedSnapshot.CollectAsync(connection, [connection.Topics.AllDevices("reported")], RetainedSnapshot.DefaultQuiet, max, time, cancellationToken);
        return
        [
            .. reported
                .Where(kv => DeviceReport.Groups(kv.Value.Payload).Contains(group, StringComparer.Ordinal))
                .Select(kv => RetainedSnapshot.DeviceOf(connection.Topics.Prefix, kv.Key, "reported"))
                .OfType<string>()
                .Order(StringComparer.Ordinal),
        ];
    }
}
