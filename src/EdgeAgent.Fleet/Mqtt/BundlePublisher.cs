using EdgeAgent.Core.Bundles;
using EdgeAgent.Fleet.Bundles;

namespace EdgeAgent.Fleet.Mqtt;

/// <summary>
/// Publishes a verified bundle: every chunk retained on <c>{p}/blobs/{sha256}/{index}</c>, then the retained manifest on
/// <c>{p}/bundles/{name}/{version}/manifest</c> (last, so a device never sees a manifest whose chunks are not there yet).
/// </summary>
public static class BundlePublisher
{
    public sealed record Progress(long BytesSent, long TotalBytes, int ChunksSent, int TotalChunks);

    public static async Task<BundleManifest> PublishAsync(FleetConnection connection, string bundlePath, TrustedKeys? trust, IProgress<Progress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var envelope = BundleArchive.ReadEnvelope(bundlePath);
        BundleManifest manifest;
        if (trust is not null)
        {
            manifest = BundleFileVerifier.Verify(bundlePath, trust, DateTimeOffset.UtcNow).Manifest;
        }
        else
        {
            // Without a trust key the signature is the devices' business, but a manifest that breaks the rules is not published.
            manifest = UnverifiedManifest.Read(envelope).Manifest;
            ManifestVerifier.CheckRules(manifest, new VerificationPolicy(), DateTimeOffset.UtcNow);
        }

        var totalChunks = manifest.Files.Sum(f => f.Chunks.Count);
        var totalBytes = manifest.TotalLength;
        long sent = 0;
        var chunks = 0;
        var entries = new List<(BundleFileEntry File, byte[] Data)>();
        BundleArchive.ForEachFile(bundlePath, manifest, (file, data) =>
        {
            var bytes = new byte[file.Length];
            data.ReadExactly(bytes);
            entries.Add((file, bytes));
        });
        foreach (var (file, data) in entries)
        {
            for (var index = 0; index < file.Chunks.Count; index++)
            {
                var offset = index * file.ChunkSize;
                var length = file.ChunkLength(index);
                var chunk = data.AsMemory(offset, length);
                if (!ChunkTable.ChunkMatches(file, index, chunk.Span))
                {
                    throw new BundleRejectedException(RejectionReason.HashMismatch, $"chunk {index} of '{file.Path}' does not match the manifest; not publishing");
                }

                await connection.PublishAsync(connection.Topics.Blob(file.Sha256, index), chunk, retain: true, cancellationToken);
                sent += length;
                chunks++;
                progress?.Report(new Progress(sent, totalBytes, chunks, totalChunks));
            }
        }

        await connection.PublishAsync(connection.Topics.Manifest(manifest.Name, manifest.Version), envelope, retain: true, cancellationToken);
        return manifest;
    }
}
