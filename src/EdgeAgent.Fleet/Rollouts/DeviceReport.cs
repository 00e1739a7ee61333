using System.Text.Json;

namespace EdgeAgent.Fleet.Rollouts;

/// <summary>What a device's retained <c>reported</c> document says about one model, and when the operator received it.</summary>
public sealed record DeviceReport(string? State, string? Version, string? ActiveVersion, string? Reason, DateTimeOffset? Updated, DateTimeOffset ReceivedAt)
{
    /// <summary>In <c>Failed</c>: the device says it will try again by itself (a transient failure, or attempts left).</summary>
    public bool Retrying { get; init; }

    /// <summary>The device runs a locally pinned version of the model (<c>edgectl install</c>): fleet desired state does not apply.</summary>
    public bool Pinned { get; init; }

    /// <summary>The entry for <paramref name="model"/> in a reported document; null when the model is not listed or the document is unreadable.</summary>
    public static DeviceReport? Read(ReadOnlySpan<byte> reported, string model, DateTimeOffset receivedAt)
    {
        if (reported.IsEmpty)
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(reported.ToArray());
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("models", out var models) || models.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            foreach (var m in models.EnumerateArray())
            {
                if (m.ValueKind == JsonValueKind.Object && Text(m, "name") == model)
                {
                    DateTimeOffset? updated = m.TryGetProperty("updated", out var u) && u.ValueKind == JsonValueKind.String && u.TryGetDateTimeOffset(out var at) ? at : null;
                    return new DeviceReport(Text(m, "state"), Text(m, "version"), Text(m, "activeVersion"), Text(m, "reason"), updated, receivedAt)
                    {
                        Retrying = m.TryGetProperty("retrying", out var r) && r.ValueKind == JsonValueKind.True,
                        Pinned = m.TryGetProperty("pinned", out var p) && p.ValueKind == JsonValueKind.True,
                    };
                }
            }
        }
        catch (JsonException)
        {
            // Not a reported document: nothing known about the model.
        }

        return null;
    }

    /// <summary>The groups a reported document lists (<c>"groups":["line-a"]</c>); empty when none or unreadable.</summary>
    public static IReadOnlyList<string> Groups(ReadOnlySpan<byte> reported)
    {
        if (reported.IsEmpty)
        {
            return [];
        }

        try
        {
            using var doc = JsonDocument.Parse(reported.ToArray());
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("groups", out var groups) && groups.ValueKind == JsonValueKind.Array)
            {
                return [.. groups.EnumerateArray().Where(g => g.ValueKind == JsonValueKind.String).Select(g => g.GetString()!)];
            }
        }
        catch (JsonException)
        {
            // Unreadable: no groups.
        }

        return [];
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
