using System.Text.Json;

namespace EdgeAgent.Core.Mqtt;

/// <summary>
/// A message on <c>{p}/devices/{id}/status</c> as far as ordering goes: birth (<c>online</c>) or will/shutdown
/// (<c>offline</c>) with the session sequence <c>seq</c> (like Sparkplug's bdSeq). Birth and will of one connection
/// carry the same <c>seq</c>; every new connection has a higher one (docs/mqtt-api.md, "Using seq").
/// </summary>
public sealed record DeviceStatus(string State, long Seq)
{
    public const string Online = "online";
    public const string Offline = "offline";

    public bool IsOnline => State == Online;

    public bool IsOffline => State == Offline;

    /// <summary>
    /// The consumer rule: whether this message replaces <paramref name="held"/> (the latest one a consumer kept for the
    /// device). A higher <c>seq</c> always wins; a lower one never does (e.g. an old session's will that the broker
    /// delivers after the device already reconnected); for the same <c>seq</c> only <c>offline</c> does, because it can
    /// only follow the <c>online</c> of its own session.
    /// </summary>
    public bool Supersedes(DeviceStatus? held) =>
        held is null || Seq > held.Seq || (Seq == held.Seq && IsOffline && !held.IsOffline);

    /// <summary>Reads <c>state</c> and <c>seq</c>; null for an empty (cleared), unreadable or incomplete message.</summary>
    public static DeviceStatus? TryParse(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(payload);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("state", out var state) && state.ValueKind == JsonValueKind.String && state.GetString() is Online or Offline
                && root.TryGetProperty("seq", out var seq) && seq.ValueKind == JsonValueKind.Number && seq.TryGetInt64(out var number)
                ? new DeviceStatus(state.GetString()!, number)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
