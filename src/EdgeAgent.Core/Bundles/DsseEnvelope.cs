using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Bundles;

/// <summary>A DSSE envelope (https://github.com/secure-systems-lab/dsse): payload and payload type are both signed.</summary>
public sealed record DsseEnvelope
{
    public const string ManifestPayloadType = "application/vnd.edgeagent.manifest+json";

    [JsonPropertyName("payloadType")] public required string PayloadType { get; init; }

    /// <summary>Base64 (standard alphabet) of the payload bytes.</summary>
    [JsonPropertyName("payload")] public required string Payload { get; init; }

    [JsonPropertyName("signatures")] public required IReadOnlyList<DsseSignature> Signatures { get; init; }
}
