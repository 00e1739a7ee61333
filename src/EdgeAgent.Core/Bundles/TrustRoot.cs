using System.Security.Cryptography;
using System.Text.Json;

namespace EdgeAgent.Core.Bundles;

/// <summary>Signs and verifies <c>root.json</c> (a DSSE envelope around a <see cref="TrustRootDocument"/>), first use and rotation.</summary>
public static class TrustRoot
{
    public const string PayloadType = "application/vnd.edgeagent.root+json";
    public const string RootInvalid = "root-invalid";
    public const string RootVersion = "root-version";

    public static DsseEnvelope Sign(TrustRootDocument root, IReadOnlyList<ECDsa> keys) =>
        ManifestSigner.SignPayload(PayloadType, JsonSerializer.SerializeToUtf8Bytes(root, CoreJson.Options.Info<TrustRootDocument>()), keys);

    /// <summary>A first root (installed by file): valid, not expired, and signed by a threshold of its own keys.</summary>
    public static TrustRootDocument VerifyInitial(ReadOnlySpan<byte> envelopeJson, DateTimeOffset now)
    {
        var (envelope, payload, root) = Parse(envelopeJson, now);
        using var own = ToTrustedKeys(root);
        ManifestVerifier.VerifySignature(envelope, payload, own, "root");
        return root;
    }

    /// <summary>
    /// A rotation: a newer version, signed by a threshold of the <paramref name="current"/> root's keys and by a threshold
    /// of its own keys. Keys the new root leaves out are revoked from then on.
    /// </summary>
    public static TrustRootDocument VerifyRotation(TrustRootDocument current, ReadOnlySpan<byte> envelopeJson, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(current);
        var (envelope, payload, root) = Parse(envelopeJson, now);
        if (root.Version <= current.Version)
        {
            throw new BundleRejectedException(RootVersion, $"root version {root.Version} is not newer than the current version {current.Version}");
        }

        using (var old = ToTrustedKeys(current))
        {
            ManifestVerifier.VerifySignature(envelope, payload, old, $"root v{root.Version} (by the keys of v{current.Version})");
        }

        using var own = ToTrustedKeys(root);
        ManifestVerifier.VerifySignature(envelope, payload, own, $"root v{root.Version} (by its own keys)");
        return root;
    }

    /// <summary>The manifest keys a root establishes, with its threshold.</summary>
    public static TrustedKeys ToTrustedKeys(TrustRootDocument root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var keys = new TrustedKeys();
        foreach (var key in root.Keys)
        {
            keys.AddPem(key.PublicKey);
        }

        keys.Threshold = root.Threshold;
        return keys;
    }

    private static (DsseEnvelope Envelope, byte[] Payload, TrustRootDocument Root) Parse(ReadOnlySpan<byte> envelopeJson, DateTimeOffset now)
    {
        if (envelopeJson.Length > ManifestVerifier.MaxEnvelopeBytes)
        {
            throw new BundleRejectedException(RejectionReason.TooLarge, $"root is {envelopeJson.Length} bytes, more than {ManifestVerifier.MaxEnvelopeBytes}");
        }

        DsseEnvelope envelope;
        byte[] payload;
        TrustRootDocument root;
        try
        {
            envelope = JsonSerializer.Deserialize(envelopeJson, CoreJson.Options.Info<DsseEnvelope>())
                ?? throw new BundleRejectedException(RootInvalid, "root is empty");
            if (envelope.PayloadType != PayloadType)
            {
                throw new BundleRejectedException(RejectionReason.WrongPayloadType, $"payloadType '{envelope.PayloadType}' is not '{PayloadType}'");
            }

            payload = Convert.FromBase64String(envelope.Payload ?? string.Empty);
            root = JsonSerializer.Deserialize(payload, CoreJson.Options.Info<TrustRootDocument>())
                ?? throw new BundleRejectedException(RootInvalid, "root document is empty");
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            throw new BundleRejectedException(RootInvalid, $"root is not a valid signed root document ({ex.Message})");
        }

        if (root.Schema != TrustRootDocument.SchemaV1 || root.Version < 1 || root.Keys is null || root.Keys.Count == 0
            || root.Threshold < 1 || root.Threshold > root.Keys.Count)
        {
            throw new BundleRejectedException(RootInvalid, $"root needs schema {TrustRootDocument.SchemaV1}, a version >= 1, keys, and a threshold between 1 and the number of keys");
        }

        foreach (var key in root.Keys)
        {
            using var ecdsa = ECDsa.Create();
            try
            {
                ecdsa.ImportFromPem(key.PublicKey);
            }
            catch (Exception ex) when (ex is ArgumentException or CryptographicException or PlatformNotSupportedException)
            {
                throw new BundleRejectedException(RootInvalid, $"root key {key.KeyId} is not a PEM public key ({ex.Message})");
            }

            if (KeyIds.Of(ecdsa) != key.KeyId)
            {
                throw new BundleRejectedException(RootInvalid, $"root key id {key.KeyId} is not the sha256 of its public key");
            }
        }

        if (root.Keys.Select(k => k.KeyId).Distinct(StringComparer.Ordinal).Count() != root.Keys.Count)
        {
            throw new BundleRejectedException(RootInvalid, "root lists a key twice");
        }

        if (root.Expires is { } expires && expires <= now)
        {
            throw new BundleRejectedException(RejectionReason.Expired, $"root v{root.Version} expired at {expires:O}");
        }

        return (envelope, payload, root);
    }
}
