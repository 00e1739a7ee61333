using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Bundles;

/// <summary>
/// The signed content of <c>root.json</c>: the keys a device trusts for manifests, how many of them must sign (k of n),
/// and a version that only grows. A new root takes effect only when signed by a threshold of the current root's keys
/// and by a threshold of its own keys (TUF-style rotation); keys it leaves out are revoked.
/// </summary>
public sealed record TrustRootDocument
{
    public const string SchemaV1 = "edgeagent.root/v1";

    [JsonPropertyName("schema")] public string Schema { get; set; } = SchemaV1;

    [JsonPropertyName("version")] public required int Version { get; init; }

    [JsonPropertyName("expires")] public DateTimeOffset? Expires { get; init; }

    [JsonPropertyName("threshold")] public required int Threshold { get; init; }

    [JsonPropertyName("keys")] public required IReadOnlyList<TrustRootKey> Keys { get; init; }
}
