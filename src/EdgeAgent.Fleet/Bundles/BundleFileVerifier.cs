using System.Security.Cryptography;
using EdgeAgent.Core.Bundles;

namespace EdgeAgent.Fleet.Bundles;

/// <summary>Verifies a <c>.edgebundle</c> file the way a device would: the signed manifest first, then every file's length, chunks and hash.</summary>
public static class BundleFileVerifier
{
    public sealed record Verified(BundleManifest Manifest, byte[] Envelope, string SignedBy);

    public static Verified Verify(string bundlePath, TrustedKeys trust, DateTimeOffset now, VerificationPolicy? policy = null)
    {
        ArgumentNullException.ThrowIfNull(trust);
        var envelope = BundleArchive.ReadEnvelope(bundlePath);
        var manifest = ManifestVerifier.Verify(envelope, trust, policy ?? new VerificationPolicy(), now, out var signedBy);
        CheckFiles(bundlePath, manifest);
        return new Verified(manifest, envelope, signedBy);
    }

    /// <summary>Checks every file of the bundle against the manifest: length, each chunk hash, the whole-file hash.</summary>
    public static void CheckFiles(string bundlePath, BundleManifest manifest)
    {
        var buffer = new byte[1024 * 1024];
        BundleArchive.ForEachFile(bundlePath, manifest, (file, data) =>
        {
            using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var chunk = new byte[file.ChunkSize];
            for (var index = 0; index < file.ExpectedChunkCount(); index++)
            {
                var length = file.ChunkLength(index);
                data.ReadExactly(chunk, 0, length);
                if (!ChunkTable.ChunkMatches(file, index, chunk.AsSpan(0, length)))
                {
                    throw new BundleRejectedException(RejectionReason.HashMismatch, $"chunk {index} of '{file.Path}' does not match the signed manifest");
                }

                whole.AppendData(chunk, 0, length);
            }

            if (data.Read(buffer) > 0)
            {
                throw new BundleRejectedException(RejectionReason.LengthMismatch, $"'{file.Path}' is longer than the {file.Length} bytes declared");
            }

            if (Convert.ToHexStringLower(whole.GetHashAndReset()) != file.Sha256)
            {
                throw new BundleRejectedException(RejectionReason.HashMismatch, $"'{file.Path}' does not match its sha256 in the manifest");
            }
        });
    }
}
