namespace EdgeAgent.Core.Mqtt;

/// <summary>The MQTT topic contract v1 (docs/mqtt-api.md). Every topic the agent or edgectl uses is built here.</summary>
public sealed class Topics
{
    public const string DefaultPrefix = "edgeagent/v1";

    public Topics(string prefix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        Prefix = prefix.TrimEnd('/');
    }

    public string Prefix { get; }

    public string DeviceDesired(string deviceId) => $"{Prefix}/devices/{deviceId}/desired";

    public string GroupDesired(string group) => $"{Prefix}/groups/{group}/desired";

    public string Manifest(string name, string version) => $"{Prefix}/bundles/{name}/{version}/manifest";

    public string Blob(string sha256, int index) => $"{Prefix}/blobs/{sha256}/{index}";

    /// <summary>The retained trust root (root.json envelope) that devices take as a rotation.</summary>
    public string TrustRoot() => $"{Prefix}/trust/root";

    public string Status(string deviceId) => Device(deviceId, "status");

    public string Reported(string deviceId) => Device(deviceId, "reported");

    public string Health(string deviceId) => Device(deviceId, "health");

    public string Metrics(string deviceId) => Device(deviceId, "metrics");

    public string Drift(string deviceId) => Device(deviceId, "drift");

    public string Events(string deviceId) => Device(deviceId, "events");

    /// <summary>A remote command to one device (MQTT 5 request/response, docs/mqtt-api.md#cmd).</summary>
    public string Command(string deviceId, string verb) => Device(deviceId, $"cmd/{verb}");

    /// <summary>Every remote command of one device: the filter the agent subscribes to.</summary>
    public string Commands(string deviceId) => Device(deviceId, "cmd/+");

    /// <summary>Where edgectl asks a device to answer one command (the request's MQTT 5 response topic).</summary>
    public string CommandResponse(string deviceId, string requestId) => Device(deviceId, $"responses/{requestId}");

    /// <summary>The retained state of a staged rollout (edgectl rollout).</summary>
    public string Rollout(string id) => $"{Prefix}/rollouts/{id}";

    /// <summary>Every rollout state (a filter for <c>edgectl rollout list</c>).</summary>
    public string Rollouts() => $"{Prefix}/rollouts/+";

    /// <summary>The retained lease of the process driving a rollout, cleared by its will when that process dies.</summary>
    public string RolloutDriver(string id) => $"{Prefix}/rollouts/{id}/driver";

    /// <summary>A filter over one leaf of every device, e.g. <c>{p}/devices/+/reported</c>.</summary>
    public string AllDevices(string leaf) => $"{Prefix}/devices/+/{leaf}";

    public string Device(string deviceId, string leaf) => $"{Prefix}/devices/{deviceId}/{leaf}";

    /// <summary>Whether <paramref name="topic"/> matches the MQTT topic filter <paramref name="filter"/> (<c>+</c> one level, <c>#</c> the rest).</summary>
    public static bool Matches(string filter, string topic)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(topic);
        var f = filter.Split('/');
        var t = topic.Split('/');
        for (var i = 0; i < f.Length; i++)
        {
            if (f[i] == "#")
            {
                return i == f.Length - 1;
            }

            if (i >= t.Length || (f[i] != "+" && f[i] != t[i]))
            {
                return false;
            }
        }

        return f.Length == t.Length;
    }

    /// <summary>Whether <paramref name="verb"/> can be a command verb: one topic level of letters, digits, <c>-</c> and <c>_</c>.</summary>
    public static bool IsVerb(string? verb) =>
        !string.IsNullOrEmpty(verb) && verb.Length <= 64 && verb.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
