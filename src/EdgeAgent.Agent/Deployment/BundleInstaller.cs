using System.Security.Cryptography;
using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Bundles;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Deployment;

/// <summary>Fetches and verifies a manifest, then the files it names, and installs them under <c>models/NAME/VERSION/</c>.</summary>
public sealed class BundleInstaller
{
    private readonly MqttSession _mqtt;
    private readonly BundleStore _store;
    private readonly ChunkFetcher _chunks;
    private readonly TrustStore _trust;
    private readonly AcceptedVersions _accepted;
    private readonly AgentOptions _options;
    private readonly TimeProvider _time;

    public BundleInstaller(MqttSession mqtt, BundleStore store, ChunkFetcher chunks, TrustStore trust, AcceptedVersions accepted, IOptions<AgentOptions> options, TimeProvider time)
    {
        _accepted = accepted;
        ArgumentNullException.ThrowIfNull(options);
        _mqtt = mqtt;
        _store = store;
        _chunks = chunks;
        _trust = trust;
        _options = options.Value;
        _time = time;
    }

    /// <summary>Reads the retained manifest envelope; verifies it before anything else is fetched.</summary>
    public async Task<(BundleManifest Manifest, byte[] Envelope)> FetchManifestAsync(string name, string version, CancellationToken cancellationToken)
    {
        var topic = _mqtt.Topics.Manifest(name, version);
        var timeout = TimeSpan.FromSeconds(_options.FetchTimeoutSeconds);
        var arrived = await _mqtt.CollectAsync([topic], timeout, cancellationToken);
        if (!arrived.TryGetValue(topic, out var message) || message.Payload.Length == 0)
        {
            var why = _mqtt.IsConnected ? $"no manifest is published on {topic}" : "the broker is unreachable";
            throw new BundleRejectedException(RejectionReason.Timeout, $"{why} (waited {timeout.TotalSeconds:0}s)");
        }

        return (Verify(message.Payload, name, version), message.Payload);
    }

    /// <summary>
    /// Verifies a manifest envelope for this device. <paramref name="reload"/> is for a version that was verified and
    /// activated before (start-up): expiry and anti-rollback then do not apply.
    /// </summary>
    public BundleManifest Verify(byte[] envelope, string? name, string? version, bool reload = false) =>
        ManifestVerifier.Verify(envelope, _trust.Keys, new VerificationPolicy
        {
            ExpectedName = name,
            ExpectedVersion = version,
            Architecture = _options.Architecture,
            DeviceType = _options.DeviceType ?? string.Empty,
            IgnoreExpiry = reload,
            HighestAccepted = reload || name is null ? null : _accepted.Highest(name),
        }, _time.GetUtcNow());

    public void EnsureDiskSpace(BundleManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        Directory.CreateDirectory(_store.BlobDirectory);
        var needed = manifest.Files.Where(f => !_store.HasBlob(f)).Sum(f => f.Length) * 2 + (_options.DiskReserveMegabytes * 1024L * 1024L);
        var free = new DriveInfo(Path.GetFullPath(_store.BlobDirectory)).AvailableFreeSpace;
        if (free < needed)
        {
            throw new BundleRejectedException(RejectionReason.InsufficientDisk, $"{free / 1048576} MiB free in {_store.Root}, {needed / 1048576} MiB needed (bundle plus {_options.DiskReserveMegabytes} MiB reserve)");
        }
    }

    /// <summary>
    /// A version already installed in <c>models/NAME/VERSION/</c> (staged earlier, sideloaded, or kept for rollback), its
    /// envelope verified again and every file re-hashed; null when it is not there or no longer intact.
    /// <paramref name="revert"/>: the version served on this device before, so expiry and anti-rollback do not apply.
    /// </summary>
    public (BundleManifest Manifest, byte[] Envelope)? TryInstalled(string name, string version, bool revert)
    {
        var path = _store.EnvelopePath(name, version);
        if (!File.Exists(path))
        {
            return null;
        }

        var envelope = File.ReadAllBytes(path);
        try
        {
            var manifest = Verify(envelope, name, version, reload: revert);
            VerifyInstalled(manifest);
            return (manifest, envelope);
        }
        catch (Exception ex) when ((ex is BundleRejectedException or IOException) && !revert)
        {
            // Damaged or no longer acceptable locally: fetch it from the broker instead (which verifies from scratch).
            Directory.Delete(_store.VersionDirectory(name, version), recursive: true);
            return null;
        }
    }

    public async Task FetchFilesAsync(BundleManifest manifest, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        long done = 0;
        foreach (var file in manifest.Files)
        {
            CopyHeldFile(file);
            var before = done;
            var fileProgress = progress is null ? null : new OffsetProgress(progress, before);
            await _chunks.FetchAsync(file, fileProgress, cancellationToken);
            done += file.Length;
        }
    }

    /// <summary>A file with the same sha256 that an installed version already holds is copied, never fetched again.</summary>
    private void CopyHeldFile(BundleFileEntry file)
    {
        if (_store.HasBlob(file) || !Directory.Exists(_store.ModelDirectory))
        {
            return;
        }

        foreach (var envelopePath in Directory.EnumerateFiles(_store.ModelDirectory, "envelope.json", SearchOption.AllDirectories))
        {
            BundleManifest held;
            try
            {
                held = UnverifiedManifest.Read(File.ReadAllBytes(envelopePath)).Manifest;
            }
            catch (Exception ex) when (ex is BundleRejectedException or IOException)
            {
                continue;
            }

            // Only the location is taken from the unverified manifest: the bytes are hashed against the signed entry below.
            var match = held.Files.FirstOrDefault(f => f.Sha256 == file.Sha256 && f.Length == file.Length);
            if (match is null || Path.GetDirectoryName(envelopePath) is not { } dir)
            {
                continue;
            }

            var source = Path.GetFullPath(Path.Combine(dir, match.Path));
            if (!source.StartsWith(Path.GetFullPath(dir) + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(source))
            {
                continue;
            }

            var temp = _store.BlobPath(file.Sha256) + ".copying";
            Directory.CreateDirectory(_store.BlobDirectory);
            File.Copy(source, temp, overwrite: true);
            using (var stream = File.OpenRead(temp))
            {
                if (stream.Length != file.Length || Convert.ToHexStringLower(SHA256.HashData(stream)) != file.Sha256)
                {
                    stream.Close();
                    File.Delete(temp);
                    continue;
                }
            }

            File.Move(temp, _store.BlobPath(file.Sha256), overwrite: true);
            return;
        }
    }

    /// <summary>Checks the installed files of a version against its manifest (at start-up, before they are served again).</summary>
    public void VerifyInstalled(BundleManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        foreach (var file in manifest.Files)
        {
            var path = _store.FilePath(manifest.Name, manifest.Version, file);
            using var stream = File.OpenRead(path);
            if (stream.Length != file.Length || Convert.ToHexStringLower(SHA256.HashData(stream)) != file.Sha256)
            {
                throw new BundleRejectedException(RejectionReason.HashMismatch, $"installed '{file.Path}' of {manifest.Name} {manifest.Version} no longer matches its manifest");
            }
        }
    }

    /// <summary>
    /// Copies verified blobs into the version folder, checking each file's hash again as it is copied;
    /// <paramref name="progress"/> hears the bytes copied of the file being copied (the reconcile loop's watchdog beats on it).
    /// </summary>
    public string Install(BundleManifest manifest, byte[] envelope, IProgress<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var dir = _store.VersionDirectory(manifest.Name, manifest.Version);
        var staging = dir + ".staging";
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        Directory.CreateDirectory(staging);
        foreach (var file in manifest.Files)
        {
            var target = Path.GetFullPath(Path.Combine(staging, file.Path));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using (var source = File.OpenRead(_store.BlobPath(file.Sha256)))
            using (var output = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None))
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var buffer = new byte[81920];
                int read;
                long total = 0;
                while ((read = source.Read(buffer)) > 0)
                {
                    total += read;
                    if (total > file.Length)
                    {
                        source.Close();
                        File.Delete(_store.BlobPath(file.Sha256));
                        throw new BundleRejectedException(RejectionReason.LengthMismatch, $"'{file.Path}' is longer than the {file.Length} bytes declared; the cached copy was removed");
                    }

                    hash.AppendData(buffer, 0, read);
                    output.Write(buffer, 0, read);
                    progress?.Report(total);
                    if (total >= file.Length / 2)
                    {
                        output.Flush(flushToDisk: true);
                        FaultInjection.Hit("installing");
                    }
                }

                output.Flush(flushToDisk: true);
                var sha = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (sha != file.Sha256 || total != file.Length)
                {
                    // A damaged cached copy must not block every later version that shares it: fetch it again next time.
                    source.Close();
                    File.Delete(_store.BlobPath(file.Sha256));
                    throw new BundleRejectedException(RejectionReason.HashMismatch, $"'{file.Path}' on disk has sha256 {sha}, the manifest says {file.Sha256}; the cached copy was removed");
                }
            }
        }

        StateFiles.WriteAtomically(Path.Combine(staging, "envelope.json"), envelope);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        FaultInjection.Hit("installed-staging");
        Directory.Move(staging, dir);
        FaultInjection.Hit("installed");

        // The installed copy is the one kept: the download is not needed twice.
        foreach (var file in manifest.Files)
        {
            File.Delete(_store.BlobPath(file.Sha256));
        }

        return _store.FilePath(manifest.Name, manifest.Version, manifest.ModelFile!);
    }

    /// <summary>Reports a file's progress as progress of the whole bundle, on the calling thread (in order, unlike <see cref="Progress{T}"/>).</summary>
    private sealed class OffsetProgress(IProgress<long> inner, long offset) : IProgress<long>
    {
        public void Report(long value) => inner.Report(offset + value);
    }
}
