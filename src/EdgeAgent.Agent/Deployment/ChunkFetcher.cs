using System.Globalization;
using System.Security.Cryptography;
using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Bundles;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Deployment;

/// <summary>
/// Pulls the chunks of a file it lacks from <c>{p}/blobs/{sha256}/{index}</c>, a bounded window of exact topics at a time.
/// Each chunk is checked against the signed chunk table before it is written; verified chunks survive restarts, so a
/// fetch resumes where it stopped, and a file already held is never fetched again.
/// </summary>
public sealed class ChunkFetcher
{
    public const int WindowSize = 16;
    public const int MaxBadCopies = 3;

    private readonly MqttSession _mqtt;
    private readonly BundleStore _store;
    private readonly AgentOptions _options;
    private readonly ILogger<ChunkFetcher> _logger;

    public ChunkFetcher(MqttSession mqtt, BundleStore store, IOptions<AgentOptions> options, ILogger<ChunkFetcher> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _mqtt = mqtt;
        _store = store;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>Makes sure <c>blobs/SHA256</c> holds the whole, verified file.</summary>
    public async Task FetchAsync(BundleFileEntry file, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (_store.HasBlob(file))
        {
            progress?.Report(file.Length);
            return;
        }

        var parts = _store.PartsDirectory(file.Sha256);
        Directory.CreateDirectory(parts);
        var count = file.ExpectedChunkCount();
        var missing = Enumerable.Range(0, count).Where(i => !PartIsValid(parts, file, i)).ToList();
        long held = (count - missing.Count) * (long)file.ChunkSize;
        progress?.Report(Math.Min(held, file.Length));
        var badCopies = new Dictionary<int, int>();
        var timeout = TimeSpan.FromSeconds(_options.FetchTimeoutSeconds);
        while (missing.Count > 0)
        {
            var window = missing.Take(WindowSize).ToList();
            var topics = window.Select(i => _mqtt.Topics.Blob(file.Sha256, i)).ToList();
            var arrived = await _mqtt.CollectAsync(topics, timeout, cancellationToken);
            var progressed = false;
            foreach (var index in window)
            {
                if (!arrived.TryGetValue(_mqtt.Topics.Blob(file.Sha256, index), out var message))
                {
                    continue;
                }

                if (!ChunkTable.ChunkMatches(file, index, message.Payload))
                {
                    Log.ChunkHashMismatch(_logger, index, file.Sha256);
                    var bad = badCopies[index] = badCopies.GetValueOrDefault(index) + 1;
                    if (bad >= MaxBadCopies)
                    {
                        throw new BundleRejectedException(RejectionReason.HashMismatch, $"chunk {index} of '{file.Path}' failed its sha256 check {bad} times (the published chunk does not match the signed manifest)");
                    }

                    continue;
                }

                StateFiles.WriteAtomically(Path.Combine(parts, index.ToString(CultureInfo.InvariantCulture)), message.Payload);
                missing.Remove(index);
                held += message.Payload.Length;
                progressed = true;
            }

            progress?.Report(Math.Min(held, file.Length));
            if (!progressed && arrived.Count == 0)
            {
                var state = _mqtt.IsConnected ? "no chunk arrived" : "the broker is unreachable";
                throw new BundleRejectedException(RejectionReason.Timeout, $"{state} for '{file.Path}' within {timeout.TotalSeconds:0}s ({missing.Count} of {count} chunks missing, first {_mqtt.Topics.Blob(file.Sha256, missing[0])})");
            }
        }

        Assemble(file, parts);
    }

    private static bool PartIsValid(string parts, BundleFileEntry file, int index)
    {
        var path = Path.Combine(parts, index.ToString(CultureInfo.InvariantCulture));
        return File.Exists(path) && ChunkTable.ChunkMatches(file, index, File.ReadAllBytes(path));
    }

    private void Assemble(BundleFileEntry file, string parts)
    {
        var target = _store.BlobPath(file.Sha256);
        var temp = target + ".assembling";
        using (var output = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            for (var i = 0; i < file.ExpectedChunkCount(); i++)
            {
                var bytes = File.ReadAllBytes(Path.Combine(parts, i.ToString(CultureInfo.InvariantCulture)));
                hash.AppendData(bytes);
                output.Write(bytes);
            }

            output.Flush(flushToDisk: true);
            var sha = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (output.Length != file.Length || sha != file.Sha256)
            {
                output.Close();
                File.Delete(temp);
                Directory.Delete(parts, recursive: true);
                throw new BundleRejectedException(RejectionReason.HashMismatch, $"'{file.Path}' assembled to sha256 {sha}, the manifest says {file.Sha256}");
            }
        }

        File.Move(temp, target, overwrite: true);
        Directory.Delete(parts, recursive: true);
    }
}
