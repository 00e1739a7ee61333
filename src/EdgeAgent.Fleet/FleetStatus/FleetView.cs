using System.Text.Json;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Fleet.FleetStatus;

/// <summary>
/// The fleet as the broker holds it: one <see cref="FleetDevice"/> per device seen on retained <c>status</c>,
/// <c>reported</c> or <c>health</c>. <see cref="Build"/> is pure; <see cref="CollectAsync"/> reads the broker.
/// </summary>
public static class FleetView
{
    /// <summary>The heartbeat interval assumed when a health document does not carry <c>intervalSeconds</c> (the agent's default).</summary>
    public const double DefaultIntervalSeconds = 30;

    /// <summary>A heartbeat older than this many intervals makes a device stale.</summary>
    public const int StaleAfterIntervals = 3;

    public static async Task<IReadOnlyList<FleetDevice>> CollectAsync(FleetConnection connection, TimeSpan max, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(time);
        var topics = connection.Topics;
        var seen = await RetainedSnapshot.CollectAsync(connection, [topics.AllDevices("status"), topics.AllDevices("reported"), topics.AllDevices("health")], RetainedSnapshot.DefaultQuiet, max, time, cancellationToken);
        var docs = new Dictionary<string, Dictionary<string, byte[]>>(StringComparer.Ordinal);
        foreach (var (topic, (payload, _)) in seen)
        {
            foreach (var leaf in (string[])["status", "reported", "health"])
            {
                if (RetainedSnapshot.DeviceOf(topics.Prefix, topic, leaf) is { } id)
                {
                    if (!docs.TryGetValue(id, out var byLeaf))
                    {
                        docs[id] = byLeaf = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                    }

                    byLeaf[leaf] = payload;
                }
            }
        }

        var now = time.GetUtcNow();
        return [.. docs.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => Build(kv.Key, kv.Value.GetValueOrDefault("status"), kv.Value.GetValueOrDefault("reported"), kv.Value.GetValueOrDefault("health"), now))];
    }

    /// <summary>One row from the device's three documents (any may be null or unreadable) at <paramref name="now"/>.</summary>
    public static FleetDevice Build(string device, byte[]? status, byte[]? reported, byte[]? health, DateTimeOffset now)
    {
        using var statusDoc = TryParse(status);
        using var reportedDoc = TryParse(reported);
        using var healthDoc = TryParse(health);
        var connection = Text(statusDoc, "state");
        double? age = null;
        double? interval = null;
        if (healthDoc is not null)
        {
            interval = healthDoc.RootElement.TryGetProperty("intervalSeconds", out var i) && i.ValueKind == JsonValueKind.Number && i.GetDouble() > 0 ? i.GetDouble() : null;
            if (healthDoc.RootElement.TryGetProperty("timestamp", out var t) && t.ValueKind == JsonValueKind.String && t.TryGetDateTimeOffset(out var at))
            {
                age = Math.Max(0, (now - at).TotalSeconds);
            }
        }

        var models = new List<FleetDeviceModel>();
        if (reportedDoc?.RootElement.TryGetProperty("models", out var list) == true && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var m in list.EnumerateArray().Where(m => m.ValueKind == JsonValueKind.Object))
            {
                models.Add(new FleetDeviceModel(Text(m, "name") ?? "?", Text(m, "activeVersion"), Text(m, "version"), Text(m, "state"), Text(m, "reason")));
            }
        }

        // The bdSeq rule across the two retained documents: an "offline" of an older session than the one the heartbeat
        // comes from is a will that reached the broker late, not the device's state (the device corrects it itself,
        // docs/mqtt-api.md "Using seq"); the heartbeat's age then decides.
        if (connection == Core.Mqtt.DeviceStatus.Offline
            && Core.Mqtt.DeviceStatus.TryParse(status) is { } offline
            && healthDoc?.RootElement.TryGetProperty("mqtt", out var mqtt) == true && mqtt.ValueKind == JsonValueKind.Object
            && mqtt.TryGetProperty("session", out var session) && session.ValueKind == JsonValueKind.Number && session.TryGetInt64(out var heartbeatSeq)
            && heartbeatSeq > offline.Seq)
        {
            connection = null;
        }

        var state = Classify(connection, age, interval ?? DefaultIntervalSeconds);
        return new FleetDevice
        {
            Device = device,
            State = state,
            Healthy = state == "online" && !models.Any(m => m.State is "Failed" or "RolledBack"),
            Connection = connection,
            HeartbeatAgeSeconds = age is { } a ? Math.Round(a, 1) : null,
            HeartbeatIntervalSeconds = interval,
            AgentVersion = Text(reportedDoc, "agentVersion") ?? Text(statusDoc, "agentVersion"),
            DeviceType = Text(reportedDoc, "deviceType"),
            Groups = reported is null ? [] : Rollouts.DeviceReport.Groups(reported),
            Models = models,
        };
    }

    /// <summary>offline beats everything; a heartbeat older than 3 intervals is stale; no heartbeat is unknown; otherwise online.</summary>
    public static string Classify(string? connection, double? heartbeatAgeSeconds, double intervalSeconds)
    {
        if (connection == "offline")
        {
            return "offline";
        }

        if (heartbeatAgeSeconds is not { } age)
        {
            return "unknown";
        }

        return age > intervalSeconds * StaleAfterIntervals ? "stale" : "online";
    }

    private static JsonDocument? TryParse(byte[]? payload)
    {
        if (payload is null || payload.Length == 0)
        {
            return null;
        }

        try
        {
            var doc = JsonDocument.Parse(payload);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                return doc;
            }

            doc.Dispose();
        }
        catch (JsonException)
        {
            // Unreadable: treated as not seen.
        }

        return null;
    }

    private static string? Text(JsonDocument? doc, string name) => doc is null ? null : Text(doc.RootElement, name);

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
