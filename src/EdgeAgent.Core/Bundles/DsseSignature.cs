using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Bundles;

/// <summary>One signature: <c>keyid</c> is hex SHA-256 of the key's SubjectPublicKeyInfo; <c>sig</c> is base64 of the DER ECDSA signature.</summary>
public sealed record DsseSignature(
    [property: JsonPropertyName("keyid")] string KeyId,
    [property: JsonPropertyName("sig")] string Sig);
