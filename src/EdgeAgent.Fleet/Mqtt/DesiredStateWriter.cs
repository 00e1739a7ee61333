using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeAgent.Core.Desired;

namespace EdgeAgent.Fleet.Mqtt;

/// <summary>Writes a device's (or group's) retained desired state, merging one model into what is already desired there.</summary>
public static class DesiredStateWriter
{
    /// <summary>How long to wait for the retained document before concluding there is none.</summary>
    public static readonly TimeSpan DefaultRetainedWait = TimeSpan.FromSeconds(2);

    public static async Task<DesiredState> SetModelAsync(FleetConnection connection, string deviceId, string model, string version, TimeSpan? retainedWait = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return await SetEntryAsync(connection, connection.Topics.DeviceDesired(deviceId), model, new DesiredModel(model, version), retainedWait, cancellationToken);
    }

    /// <summary>
    /// Sets (or, with a null <paramref name="entry"/>, removes) one model's entry in the retained desired document on
    /// <paramref name="topic"/> (a device's or a group's), keeping the other models.
    /// </summary>
    public static async Task<DesiredState> SetEntryAsync(FleetConnection connection, string topic, string model, DesiredModel? entry, TimeSpan? retainedWait = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
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
        var models = current.Models.Where(m => m.Name != model).Concat(entry is null ? [] : [entry]).OrderBy(m => m.Name, StringComparer.Ordinal).ToList();
        var next = new DesiredState { Models = models };
        if (!DesiredState.TryParse(next.ToJson(), out _, out var error))
        {
            throw new ArgumentException(error);
        }

        await connection.PublishAsync(topic, next.ToJson(), retain: true, cancellationToken);
        return next;
    }

    /// <summary>
    /// The device's retained desired document as JSON (fields this version does not know are kept); null when none is
    /// retained. A document that is not valid throws, as in <see cref="SetModelAsync"/>.
    /// </summary>
    public static async Task<JsonElement?> ReadAsync(FleetConnection connection, string deviceId, TimeSpan? retainedWait = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var topic = connection.Topics.DeviceDesired(deviceId);
        var existing = await connection.ReadRetainedAsync(topic, retainedWait ?? DefaultRetainedWait, cancellationToken);
        if (existing is null || existing.Length == 0)
        {
            return null;
        }

        if (!DesiredState.TryParse(existing, out _, out var problem))
        {
            throw new InvalidDataException($"the desired state retained on {topic} is not valid ({problem}); fix or clear it first (e.g. mosquitto_pub -r -n -t {topic})");
        }

        using var doc = JsonDocument.Parse(existing);
        return doc.RootElement.Clone();
    }

    /// <summary>
    /// <paramref name="current"/> with the entry of <paramref name="entry"/>'s model replaced (or added), or removed when
    /// <paramref name="entry"/> is null; models sorted by name, other fields kept. Null when no model is left and
    /// <paramref name="clearWhenEmpty"/> is set: publishing null clears the retained topic.
    /// </summary>
    public static byte[]? WithEntry(JsonElement? current, string model, JsonElement? entry, bool clearWhenEmpty = false)
    {
        var root = current is { ValueKind: JsonValueKind.Object } c ? JsonNode.Parse(c.GetRawText())!.AsObject() : new JsonObject();
        var models = root["models"] as JsonArray ?? [];
        var kept = models.Where(m => m?["name"]?.GetValue<string>() != model).Select(m => m!.DeepClone()).ToList();
        if (entry is { } e)
        {
            kept.Add(JsonNode.Parse(e.GetRawText())!);
        }

        if (clearWhenEmpty && kept.Count == 0)
        {
            return null;
        }

        root["models"] = new JsonArray([.. kept.OrderBy(m => m["name"]?.GetValue<string>(), StringComparer.Ordinal)]);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(root);
        if (!DesiredState.TryParse(bytes, out _, out var error))
        {
            throw new ArgumentException(error);
        }

        return bytes;
    }

    /// <summary>The entry for <paramref name="model"/> in a desired document; null when it is not listed.</summary>
    public static JsonElement? EntryOf(JsonElement? desired, string model)
    {
        if (desired is { ValueKind: JsonValueKind.Object } d && d.TryGetProperty("models", out var models) && models.ValueKind == JsonValueKind.Array)
        {
            foreach (var m in models.EnumerateArray())
            {
                if (m.ValueKind == JsonValueKind.Object && m.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String && n.GetString() == model)
                {
                    return m.Clone();
                }
            }
        }

        return null;
    }

    /// <summary>Publishes a desired document retained; null clears the topic (an empty retained message).</summary>
    public static Task PublishAsync(FleetConnection connection, string deviceId, byte[]? document, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return connection.PublishAsync(connection.Topics.DeviceDesired(deviceId), document ?? [], retain: true, cancellationToken);
    }
}
