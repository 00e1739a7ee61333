using System.Security.Cryptography;
using System.Text.Json;

namespace EdgeAgent.Core.Bundles;

/// <summary>Wraps a manifest in a DSSE envelope signed with ECDSA P-256 / SHA-256 (DER, as openssl makes it).</summary>
public static class ManifestSigner
{
    public static DsseEnvelope Sign(BundleManifest manifest, IReadOnlyList<ECDsa> keys)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            throw new ArgumentException("at least one signing key is needed", nameof(keys));
        }

        return SignPayload(DsseEnvelope.ManifestPayloadType, JsonSerializer.SerializeToUtf8Bytes(manifest, CoreJson.Options.Info<BundleManifest>()), keys);
    }

    /// <summary>Signs any payload into a DSSE envelope with ECDSA P-256 / SHA-256 (DER) signatures, one per key.</summary>
    public static DsseEnvelope SignPayload(string payloadType, byte[] payload, IReadOnlyList<ECDsa> keys)
    {
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentNullException.ThrowIfNull(keys);
        var pae = Dsse.PreAuthEncoding(payloadType, payload);
        var signatures = new List<DsseSignature>(keys.Count);
        foreach (var key in keys)
        {
            EnsureP256(key);
            var der = key.SignData(pae, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
            signatures.Add(new DsseSignature(KeyIds.Of(key), Convert.ToBase64String(der)));
        }

        return new DsseEnvelope
        {
            PayloadType = payloadType,
            Payload = Convert.ToBase64String(payload),
            Signatures = signatures,
        };
    }

    internal static void EnsureP256(ECDsa key)
    {
        var curve = key.ExportParameters(false).Curve;
        if (curve.Oid?.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            throw new CryptographicException($"key is not on curve P-256 (got {curve.Oid?.FriendlyName ?? "unknown"})");
        }
    }
}
