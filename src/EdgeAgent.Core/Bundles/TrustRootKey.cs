using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Bundles;

/// <summary>One key of a trust root: its key id and its SubjectPublicKeyInfo PEM.</summary>
public sealed record TrustRootKey(
    [property: JsonPropertyName("keyid")] string KeyId,
    [property: JsonPropertyName("publicKey")] string PublicKey);
