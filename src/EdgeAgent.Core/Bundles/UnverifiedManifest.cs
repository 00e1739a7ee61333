using System.Text.Json;

namespace EdgeAgent.Core.Bundles;

/// <summary>
/// An envelope read WITHOUT checking its signatures, for operator tools that inspect, co-sign or publish a bundle. A
/// device never uses this: it verifies with <see cref="ManifestVerifier"/> before interpreting the manifest.
/// </summary>
public sealed record UnverifiedManifest(DsseEnvelope Envelope, byte[] Payload, BundleManifest Manifest)
{
    public static UnverifiedManifest Read(ReadOnlySpan<byte> envelopeJson)
    {
        DsseEnvelope envelope;
        try
        {
            envelope = JsonSerializer.Deserialize(envelopeJson, CoreJson.Options.Info<DsseEnvelope>())
                ?? throw new BundleRejectedException(RejectionReason.MalformedEnvelope, "envelope is empty");
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new BundleRejectedException(RejectionReason.MalformedEnvelope, $"the envelope cannot be read ({ex.Message})");
        }

        if (envelope.PayloadType != DsseEnvelope.ManifestPayloadType)
        {
            throw new BundleRejectedException(RejectionReason.WrongPayloadType, $"payloadType '{envelope.PayloadType}' is not '{DsseEnvelope.ManifestPayloadType}'");
        }

        try
        {
            var payload = Convert.FromBase64String(envelope.Payload ?? string.Empty);
            var manifest = JsonSerializer.Deserialize(payload, CoreJson.Options.Info<BundleManifest>())
                ?? throw new BundleRejectedException(RejectionReason.MalformedManifest, "manifest is empty");
            return new UnverifiedManifest(envelope, payload, manifest);
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException)
        {
            throw new BundleRejectedException(RejectionReason.MalformedManifest, $"the manifest cannot be read ({ex.Message})");
        }
    }
}
