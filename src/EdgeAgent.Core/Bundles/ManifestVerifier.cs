using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeAgent.Core.Drift;

namespace EdgeAgent.Core.Bundles;

/// <summary>
/// Verifies a DSSE manifest envelope before anything it names is fetched or opened:
/// payload type, a signature by a trusted key, then the manifest's own rules (names, expiry, architecture, paths, chunk table).
/// </summary>
public static partial class ManifestVerifier
{
    public const int MaxEnvelopeBytes = 1024 * 1024;

    /// <summary>Keeps the chunk table of one file within what a 1 MiB envelope can hold anyway.</summary>
    public const long MaxChunksPerFile = 1_000_000;

    [GeneratedRegex(@"^[a-z0-9][a-z0-9._-]{0,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^[0-9a-f]{64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256Pattern();

    public static bool IsValidModelName(string? name) => name is not null && NamePattern().IsMatch(name);

    public static bool IsSha256Hex(string? value) => value is not null && Sha256Pattern().IsMatch(value);

    /// <summary>Verifies and returns the manifest, or throws <see cref="BundleRejectedException"/> naming the rule that failed.</summary>
    public static BundleManifest Verify(ReadOnlySpan<byte> envelopeJson, TrustedKeys trust, VerificationPolicy policy, DateTimeOffset now) =>
        Verify(envelopeJson, trust, policy, now, out _);

    /// <summary>As <see cref="Verify(ReadOnlySpan{byte}, TrustedKeys, VerificationPolicy, DateTimeOffset)"/>; also gives the id of the key whose signature verified.</summary>
    public static BundleManifest Verify(ReadOnlySpan<byte> envelopeJson, TrustedKeys trust, VerificationPolicy policy, DateTimeOffset now, out string signedBy)
    {
        ArgumentNullException.ThrowIfNull(trust);
        ArgumentNullException.ThrowIfNull(policy);
        if (envelopeJson.Length > MaxEnvelopeBytes)
        {
            throw new BundleRejectedException(RejectionReason.TooLarge, $"manifest envelope is {envelopeJson.Length} bytes, more than {MaxEnvelopeBytes}");
        }

        DsseEnvelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize(envelopeJson, CoreJson.Options.Info<DsseEnvelope>());
        }
        catch (JsonException ex)
        {
            throw new BundleRejectedException(RejectionReason.MalformedEnvelope, $"envelope is not valid DSSE JSON ({ex.Message})");
        }

        if (envelope is null || envelope.PayloadType is null || envelope.Payload is null)
        {
            throw new BundleRejectedException(RejectionReason.MalformedEnvelope, "envelope lacks payloadType or payload");
        }

        if (envelope.PayloadType != DsseEnvelope.ManifestPayloadType)
        {
            throw new BundleRejectedException(RejectionReason.WrongPayloadType, $"payloadType '{envelope.PayloadType}' is not '{DsseEnvelope.ManifestPayloadType}'");
        }

        byte[] payload;
        try
        {
            payload = Convert.FromBase64String(envelope.Payload);
        }
        catch (FormatException)
        {
            throw new BundleRejectedException(RejectionReason.MalformedEnvelope, "payload is not base64");
        }

        signedBy = VerifySignature(envelope, payload, trust, "manifest");
        var manifest = ParseManifest(payload);
        CheckRules(manifest, policy, now);
        CheckRollback(manifest, Convert.ToHexStringLower(SHA256.HashData(payload)), policy);
        return manifest;
    }

    /// <summary>
    /// Checks that valid signatures by <see cref="TrustedKeys.Threshold"/> distinct keys of <paramref name="trust"/> cover
    /// the DSSE PAE of the payload; returns their key ids, comma-separated. <paramref name="what"/> names the document in errors.
    /// </summary>
    internal static string VerifySignature(DsseEnvelope envelope, byte[] payload, TrustedKeys trust, string what)
    {
        if (envelope.Signatures is null || envelope.Signatures.Count == 0)
        {
            throw new BundleRejectedException(RejectionReason.Unsigned, $"{what} carries no signature");
        }

        var pae = Dsse.PreAuthEncoding(envelope.PayloadType, payload);
        var verified = new List<string>();
        var sawKnownKey = false;
        string? badSignatureDetail = null;
        foreach (var signature in envelope.Signatures)
        {
            if (signature?.KeyId is null || !trust.TryGet(signature.KeyId, out var key) || key is null || verified.Contains(signature.KeyId))
            {
                // Unknown keys are ignored, and a key counts once however often it signed.
                continue;
            }

            sawKnownKey = true;
            byte[] der;
            try
            {
                der = Convert.FromBase64String(signature.Sig ?? string.Empty);
            }
            catch (FormatException)
            {
                badSignatureDetail = $"signature by key {Short(signature.KeyId)} is not base64";
                continue;
            }

            bool ok;
            try
            {
                ok = key.VerifyData(pae, der, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
            }
            catch (CryptographicException)
            {
                ok = false;
            }

            if (ok)
            {
                verified.Add(signature.KeyId);
                continue;
            }

            badSignatureDetail = $"signature by key {Short(signature.KeyId)} does not verify (a DER-encoded ECDSA P-256/SHA-256 signature over the DSSE PAE is expected)";
        }

        if (verified.Count >= trust.Threshold)
        {
            return string.Join(",", verified);
        }

        if (verified.Count > 0)
        {
            throw new BundleRejectedException(RejectionReason.BelowThreshold, $"{what} carries {verified.Count} valid signature(s) from trusted keys; {trust.Threshold} are needed");
        }

        if (!sawKnownKey)
        {
            var ids = string.Join(", ", envelope.Signatures.Select(s => Short(s?.KeyId)));
            throw new BundleRejectedException(RejectionReason.UnknownKey, $"{what} is signed only by keys this device does not trust ({ids})");
        }

        throw new BundleRejectedException(RejectionReason.BadSignature, badSignatureDetail ?? "no valid signature");
    }

    private static BundleManifest ParseManifest(byte[] payload)
    {
        try
        {
            return JsonSerializer.Deserialize(payload, CoreJson.Options.Info<BundleManifest>())
                ?? throw new BundleRejectedException(RejectionReason.MalformedManifest, "manifest is null");
        }
        catch (JsonException ex)
        {
            throw new BundleRejectedException(RejectionReason.MalformedManifest, $"signed manifest is not valid ({ex.Message})");
        }
    }

    /// <summary>SHA-256 (lowercase hex) of an envelope's decoded payload: what a device records for an accepted version.</summary>
    public static string PayloadSha256(ReadOnlySpan<byte> envelopeJson)
    {
        return Convert.ToHexStringLower(SHA256.HashData(UnverifiedManifest.Read(envelopeJson).Payload));
    }

    /// <summary>
    /// Anti-rollback: a version lower than the highest accepted is refused unless the signed manifest says
    /// <c>rollbackOf</c> a version at least that high; the highest version itself is accepted again only with the same
    /// manifest it was accepted with.
    /// </summary>
    private static void CheckRollback(BundleManifest m, string payloadSha256, VerificationPolicy policy)
    {
        if (policy.HighestAccepted is not { } highest || !SemVersion.TryParse(highest.Version, out var top))
        {
            return;
        }

        var version = SemVersion.Parse(m.Version);
        if (version > top)
        {
            return;
        }

        if (version == top)
        {
            if (payloadSha256 != highest.ManifestSha256)
            {
                throw new BundleRejectedException(RejectionReason.Downgrade, $"version {m.Version} was already accepted with a different manifest; publish a new version instead of changing this one");
            }

            return;
        }

        if (m.RollbackOf is null || !SemVersion.TryParse(m.RollbackOf, out var from) || from < top)
        {
            throw new BundleRejectedException(RejectionReason.Downgrade, $"version {m.Version} is lower than {highest.Version}, the highest this device accepted; a rollback must be signed with rollbackOf {highest.Version} or higher");
        }
    }

    /// <summary>The manifest's own rules (names, expiry, architecture, paths, chunk table), without the signature check.</summary>
    public static void CheckRules(BundleManifest m, VerificationPolicy policy, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(m);
        ArgumentNullException.ThrowIfNull(policy);
        if (m.Schema != BundleManifest.SchemaV1)
        {
            throw new BundleRejectedException(RejectionReason.MalformedManifest, $"schema '{m.Schema}' is not supported (expected {BundleManifest.SchemaV1})");
        }

        if (!IsValidModelName(m.Name))
        {
            throw new BundleRejectedException(RejectionReason.MalformedManifest, $"model name '{m.Name}' is not valid");
        }

        if (!SemVersion.TryParse(m.Version, out var semver) || semver.HasBuildMetadata)
        {
            throw new BundleRejectedException(RejectionReason.MalformedManifest, $"version '{m.Version}' is not a semantic version without build metadata");
        }

        if (m.RollbackOf is not null && (!SemVersion.TryParse(m.RollbackOf, out var rollbackOf) || rollbackOf <= semver))
        {
            throw new BundleRejectedException(RejectionReason.MalformedManifest, $"rollbackOf '{m.RollbackOf}' must be a semantic version higher than {m.Version}");
        }

        if (policy.ExpectedName is not null && m.Name != policy.ExpectedName)
        {
            throw new BundleRejectedException(RejectionReason.NameMismatch, $"manifest is for model '{m.Name}', expected '{policy.ExpectedName}'");
        }

        if (policy.ExpectedVersion is not null && m.Version != policy.ExpectedVersion)
        {
            throw new BundleRejectedException(RejectionReason.VersionMismatch, $"manifest is version {m.Version}, expected {policy.ExpectedVersion}");
        }

        if (!policy.IgnoreExpiry && m.Expires is { } expires && expires <= now)
        {
            throw new BundleRejectedException(RejectionReason.Expired, $"manifest expired at {expires:O}");
        }

        if (policy.Architecture is not null && m.Architectures.Count > 0 && !m.Architectures.Contains(policy.Architecture, StringComparer.OrdinalIgnoreCase))
        {
            throw new BundleRejectedException(RejectionReason.WrongArchitecture, $"bundle targets {string.Join(", ", m.Architectures)}, this device is {policy.Architecture}");
        }

        if (policy.DeviceType is not null && m.DeviceTypes.Count > 0 && !m.DeviceTypes.Contains(policy.DeviceType, StringComparer.OrdinalIgnoreCase))
        {
            var device = policy.DeviceType.Length == 0 ? "this device has no Agent:DeviceType" : $"this device is {policy.DeviceType}";
            throw new BundleRejectedException(RejectionReason.WrongDeviceType, $"bundle targets device types {string.Join(", ", m.DeviceTypes)}, {device}");
        }

        if (m.Files is null || m.Files.Count == 0 || m.Files.Count > policy.MaxFiles)
        {
            throw new BundleRejectedException(RejectionReason.MalformedManifest, $"manifest must list 1 to {policy.MaxFiles} files");
        }

        var paths = new HashSet<string>(StringComparer.Ordinal);
        long total = 0;
        foreach (var f in m.Files)
        {
            if (!BundlePaths.IsSafeRelative(f.Path))
            {
                throw new BundleRejectedException(RejectionReason.UnsafePath, $"file path '{f.Path}' escapes the bundle folder or is not a plain relative path");
            }

            if (!paths.Add(f.Path))
            {
                throw new BundleRejectedException(RejectionReason.MalformedManifest, $"file '{f.Path}' is listed twice");
            }

            if (!IsSha256Hex(f.Sha256))
            {
                throw new BundleRejectedException(RejectionReason.MalformedManifest, $"file '{f.Path}' has no valid lowercase hex sha256");
            }

            if (f.Length < 0 || f.ChunkSize <= 0 || f.ChunkSize > policy.MaxChunkSize)
            {
                throw new BundleRejectedException(RejectionReason.BadChunkTable, $"file '{f.Path}' has length {f.Length} and chunk size {f.ChunkSize} (chunk size must be 1..{policy.MaxChunkSize})");
            }

            if (f.Length > policy.MaxBundleBytes || f.Length / f.ChunkSize >= MaxChunksPerFile)
            {
                throw new BundleRejectedException(RejectionReason.TooLarge, $"file '{f.Path}' declares {f.Length} bytes in chunks of {f.ChunkSize}: more than this device accepts");
            }

            total += f.Length;
            if (total > policy.MaxBundleBytes)
            {
                throw new BundleRejectedException(RejectionReason.TooLarge, $"bundle declares {total} bytes, more than the {policy.MaxBundleBytes} this device accepts");
            }

            if (f.Chunks is null || f.Chunks.Count != f.ExpectedChunkCount() || !f.Chunks.All(IsSha256Hex))
            {
                throw new BundleRejectedException(RejectionReason.BadChunkTable, $"file '{f.Path}' declares {f.Chunks?.Count ?? 0} chunk hashes, expected {f.ExpectedChunkCount()} valid sha256 values");
            }
        }

        if (m.ModelFile is null)
        {
            throw new BundleRejectedException(RejectionReason.MalformedManifest, $"model file '{m.Model}' is not among the files");
        }

        if (m.Acceptance is { } acceptance)
        {
            CheckAcceptance(m, acceptance);
        }

        if (m.Drift is { } drift && DriftBaselineRules.FindViolation(drift, [.. (m.Inputs ?? []).Select(t => t.Name)], [.. (m.Outputs ?? []).Select(t => t.Name)]) is { } violation)
        {
            throw new BundleRejectedException(RejectionReason.MalformedManifest, $"drift baseline: {violation}");
        }
    }

    private static void CheckAcceptance(BundleManifest m, BundleAcceptance acceptance)
    {
        if (acceptance.File is { } path)
        {
            if (!BundlePaths.IsSafeRelative(path))
            {
                throw new BundleRejectedException(RejectionReason.UnsafePath, $"acceptance file path '{path}' escapes the bundle folder or is not a plain relative path");
            }

            if (m.AcceptanceFile is not { } file)
            {
                throw new BundleRejectedException(RejectionReason.MalformedManifest, $"acceptance file '{path}' is not among the files");
            }

            if (path == m.Model)
            {
                throw new BundleRejectedException(RejectionReason.MalformedManifest, $"acceptance file '{path}' is the model file");
            }

            if (file.Length > BundleAcceptance.MaxFileBytes)
            {
                throw new BundleRejectedException(RejectionReason.TooLarge, $"acceptance file '{path}' declares {file.Length} bytes, more than {BundleAcceptance.MaxFileBytes}");
            }
        }

        if (!double.IsFinite(acceptance.Tolerance) || acceptance.Tolerance < 0)
        {
            throw new BundleRejectedException(RejectionReason.MalformedManifest, $"acceptance tolerance {acceptance.Tolerance} must be a finite number ≥ 0");
        }

        if (acceptance.WarmupRuns is < 0 or > BundleAcceptance.MaxWarmupRuns)
        {
            throw new BundleRejectedException(RejectionReason.MalformedManifest, $"acceptance warmupRuns {acceptance.WarmupRuns} is outside 0..{BundleAcceptance.MaxWarmupRuns}");
        }
    }

    private static string Short(string? keyId) => keyId is null ? "(none)" : keyId.Length > 12 ? keyId[..12] : keyId;
}
