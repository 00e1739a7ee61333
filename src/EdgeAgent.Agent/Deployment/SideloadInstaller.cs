using System.Security.Cryptography;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Desired;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Deployment;

/// <summary>
/// <c>edgectl install FILE.edgebundle</c> for air-gapped devices: the uploaded tar is verified exactly like a bundle
/// from the broker (signatures, anti-rollback, expiry, architecture, every file's hash), installed into the version
/// folder, and pinned in the local desired state. The reconcile loop then stages, activates and watches it as usual.
/// </summary>
public sealed class SideloadInstaller
{
    /// <summary>Envelope and tar headers on top of the largest bundle a device accepts.</summary>
    public const long MaxUploadBytes = (2L * 1024 * 1024 * 1024) + (2 * 1024 * 1024);

    private readonly BundleInstaller _installer;
    private readonly BundleStore _store;
    private readonly VersionRetention _retention;
    private readonly DesiredStateInbox _desired;
    private readonly AgentOptions _options;

    public SideloadInstaller(BundleInstaller installer, BundleStore store, VersionRetention retention, DesiredStateInbox desired, IOptions<AgentOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _installer = installer;
        _store = store;
        _retention = retention;
        _desired = desired;
        _options = options.Value;
    }

    /// <summary>Receives, verifies and installs a bundle, then pins it; returns its manifest.</summary>
    public async Task<BundleManifest> InstallAsync(Stream upload, long? declaredLength, int? probationSeconds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var incoming = Path.Combine(_options.StateDirectory, "incoming");
        Directory.CreateDirectory(incoming);
        var free = new DriveInfo(Path.GetFullPath(incoming)).AvailableFreeSpace;
        if (declaredLength is { } length && length * 2 + (_options.DiskReserveMegabytes * 1024L * 1024L) > free)
        {
            throw new BundleRejectedException(RejectionReason.InsufficientDisk, $"{free / 1048576} MiB free, the {length / 1048576.0:0.#} MiB bundle needs twice its size plus the {_options.DiskReserveMegabytes} MiB reserve");
        }

        var path = Path.Combine(incoming, $"{Guid.NewGuid():N}.edgebundle");
        try
        {
            await ReceiveAsync(upload, path, cancellationToken);
            var envelope = BundleArchive.ReadEnvelope(path);

            // Name and version come from the manifest; Verify then checks them with everything else before they are used.
            var claimed = UnverifiedManifest.Read(envelope).Manifest;
            var manifest = _installer.Verify(envelope, claimed.Name, claimed.Version);
            _retention.MakeRoom(manifest);
            _installer.EnsureDiskSpace(manifest);
            Directory.CreateDirectory(_store.BlobDirectory);
            BundleArchive.ForEachFile(path, manifest, (file, data) => WriteBlob(file, data));
            foreach (var file in manifest.Files)
            {
                if (!_store.HasBlob(file))
                {
                    throw new BundleRejectedException(RejectionReason.MalformedManifest, $"'{file.Path}' is listed in the signed manifest but not in the bundle");
                }
            }

            _installer.Install(manifest, envelope);
            _desired.Pin(new DesiredModel(manifest.Name, manifest.Version) { ProbationSeconds = probationSeconds });
            return manifest;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task ReceiveAsync(Stream upload, string path, CancellationToken cancellationToken)
    {
        await using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = await upload.ReadAsync(buffer, cancellationToken)) > 0)
        {
            total += read;
            if (total > MaxUploadBytes)
            {
                throw new BundleRejectedException(RejectionReason.TooLarge, $"the upload is larger than {MaxUploadBytes / 1048576} MiB");
            }

            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }

        await output.FlushAsync(cancellationToken);
    }

    /// <summary>Writes a tar entry to <c>blobs/SHA256</c>, hashing as it goes; a file that does not match is never kept.</summary>
    private void WriteBlob(BundleFileEntry file, Stream data)
    {
        var target = _store.BlobPath(file.Sha256);
        var temp = target + ".sideload";
        using (var output = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            var buffer = new byte[1 << 16];
            long total = 0;
            int read;
            while ((read = data.Read(buffer)) > 0)
            {
                total += read;
                if (total > file.Length)
                {
                    break;
                }

                hash.AppendData(buffer, 0, read);
                output.Write(buffer, 0, read);
            }

            output.Flush(flushToDisk: true);
            var sha = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (total != file.Length || sha != file.Sha256)
            {
                output.Close();
                File.Delete(temp);
                throw new BundleRejectedException(RejectionReason.HashMismatch, $"'{file.Path}' in the bundle has sha256 {sha} ({total} bytes), the signed manifest says {file.Sha256} ({file.Length} bytes)");
            }
        }

        File.Move(temp, target, overwrite: true);
    }
}
