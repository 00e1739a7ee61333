using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeAgent.Core;
using EdgeAgent.Core.Bundles;

namespace EdgeAgent.Fleet.Bundles;

/// <summary>
/// Adds a signature to an existing bundle (a second person co-signs, for devices whose trust needs k of n). The
/// co-signer's copy is checked first (manifest rules, every file hash), so nobody signs bytes the manifest does not
/// describe; the payload is left exactly as it was signed before.
/// </summary>
public static class BundleCoSigner
{
    public static (BundleManifest Manifest, int Signatures) AddSignature(string bundlePath, ECDsa key, string outPath, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(key);
        var (envelope, payload, manifest) = UnverifiedManifest.Read(BundleArchive.ReadEnvelope(bundlePath));
        ManifestVerifier.CheckRules(manifest, new VerificationPolicy(), now);
        BundleFileVerifier.CheckFiles(bundlePath, manifest);
        var keyId = KeyIds.Of(key);
        if (envelope.Signatures.Any(s => s.KeyId == keyId))
        {
            throw new ArgumentException($"the bundle is already signed by key {keyId[..12]}");
        }

        var der = key.SignData(Dsse.PreAuthEncoding(envelope.PayloadType, payload), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var signed = envelope with { Signatures = [.. envelope.Signatures, new DsseSignature(keyId, Convert.ToBase64String(der))] };
        Rewrite(bundlePath, JsonSerializer.SerializeToUtf8Bytes(signed, CoreJson.Indented), outPath);
        return (manifest, signed.Signatures.Count);
    }

    /// <summary>Writes a copy of the bundle with a new envelope; the files are copied entry by entry, unchanged.</summary>
    private static void Rewrite(string bundlePath, byte[] envelope, string outPath)
    {
        var temp = outPath + ".tmp";
        using (var input = File.OpenRead(bundlePath))
        using (var reader = new TarReader(input))
        using (var output = File.Create(temp))
        using (var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: false))
        {
            var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, BundleArchive.EnvelopeEntry) { DataStream = new MemoryStream(envelope), Mode = mode });
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.Name == BundleArchive.EnvelopeEntry || entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                {
                    continue;
                }

                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, entry.Name) { DataStream = entry.DataStream, Mode = mode });
            }
        }

        File.Move(temp, outPath, overwrite: true);
    }
}
