using System.Security.Cryptography;
using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Bundles;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace EdgeAgent.Agent.Deployment;

/// <summary>
/// Pulls the chunks of a file it lacks from <c>{p}/blobs/{sha256}/{index}</c>, a bounded window of exact topics at a time.
/// Each chunk is checked against the signed chunk table before it is written at its offset into one partial file
/// (<c>blobs/SHA256.parts/data</c>); a fetch that stops resumes by checking every chunk range of that file against the
/// table again, so a range that never arrived or was torn by a power cut is simply fetched again. A file already held is
/// never fetched again. The whole file's sha256 is checked before it becomes <c>blobs/SHA256</c>.
/// </summary>
public sealed class ChunkFetcher
{
    public const int WindowSize = 16;
    public const int MaxBadCopies = 3;

    /// <summary>
    /// The partial file is flushed to disk after this many new bytes: what a power cut can cost is re-fetching this
    /// much, without an fsync per chunk (which made the fetch disk-bound, see bench/EdgeAgent.Bench -- chunks).
    /// </summary>
    public const long FlushEveryBytes = 8 * 1024 * 1024;

    private const string PartialFileName = "data";

    private readonly MqttSession _mqtt;
    private readonly BundleStore _store;
    private readonly AgentOptions _options;
    private readonly ILogger<ChunkFetcher> _logger;
    private readonly TimeProvider _time;
    private long _received;

    public ChunkFetcher(MqttSession mqtt, BundleStore store, IOptions<AgentOptions> options, ILogger<ChunkFetcher> logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _mqtt = mqtt;
        _store = store;
        _options = options.Value;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>A chunk on the broker failed its hash (topic, reason); the reconcile loop reports it as an event.</summary>
    public event Action<string, string>? ChunkRejected;

    /// <summary>Chunk bytes received from the broker since start-up, good or bad (what downloads cost on the link).</summary>
    public long BytesReceived => Interlocked.Read(ref _received);

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
        var partial = Path.Combine(parts, PartialFileName);
        var count = file.ExpectedChunkCount();
        string sha;
        using (var handle = File.OpenHandle(partial, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var missing = MissingChunks(handle, file);
            if (RandomAccess.GetLength(handle) != file.Length)
            {
                RandomAccess.SetLength(handle, file.Length);
            }

            long held = (count - missing.Count) * (long)file.ChunkSize;
            progress?.Report(Math.Min(held, file.Length));
            var badCopies = new Dictionary<int, int>();
            var timeout = TimeSpan.FromSeconds(_options.FetchTimeoutSeconds);
            long unflushed = 0;
            var cap = _options.MaxFetchBytesPerSecond;

            // With a bandwidth cap, a window holds about one second's worth of chunks.
            var windowSize = cap > 0 ? (int)Math.Clamp(cap / Math.Max(1, file.ChunkSize), 1, WindowSize) : WindowSize;
            var started = _time.GetTimestamp();
            long fetched = 0;
            while (missing.Count > 0)
            {
                if (cap > 0)
                {
                    var due = TimeSpan.FromSeconds((double)fetched / cap) - _time.GetElapsedTime(started);
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due, _time, cancellationToken);
                    }
                }

                var window = missing.Take(windowSize).ToList();
                var topics = window.Select(i => _mqtt.Topics.Blob(file.Sha256, i)).ToList();
                var arrived = await _mqtt.CollectAsync(topics, timeout, cancellationToken);
                var progressed = false;
                foreach (var index in window)
                {
                    if (!arrived.TryGetValue(_mqtt.Topics.Blob(file.Sha256, index), out var message))
                    {
                        continue;
                    }

                    Interlocked.Add(ref _received, message.Payload.Length);
                    fetched += message.Payload.Length;
                    if (!ChunkTable.ChunkMatches(file, index, message.Payload))
                    {
                        Log.ChunkHashMismatch(_logger, index, file.Sha256);
                        ChunkRejected?.Invoke(message.Topic, $"chunk {index} of '{file.Path}' does not match the signed chunk table ({message.Payload.Length} bytes; bad copy {badCopies.GetValueOrDefault(index) + 1} of at most {MaxBadCopies})");
                        var bad = badCopies[index] = badCopies.GetValueOrDefault(index) + 1;
                        if (bad >= MaxBadCopies)
                        {
                            throw new BundleRejectedException(RejectionReason.HashMismatch, $"chunk {index} of '{file.Path}' failed its sha256 check {bad} times (the published chunk does not match the signed manifest)");
                        }

                        continue;
                    }

                    if (FaultInjection.IsArmed($"chunk-partial:{index}"))
                    {
                        // A torn write: half the chunk lands at its offset, then the process dies.
                        RandomAccess.Write(handle, message.Payload.AsSpan(0, message.Payload.Length / 2), (long)index * file.ChunkSize);
                        RandomAccess.FlushToDisk(handle);
                        FaultInjection.Hit($"chunk-partial:{index}");
                    }

                    RandomAccess.Write(handle, message.Payload, (long)index * file.ChunkSize);
                    FaultInjection.Hit($"chunk:{index}");
                    missing.Remove(index);
                    held += message.Payload.Length;
                    unflushed += message.Payload.Length;
                    progressed = true;
                }

                if (unflushed >= FlushEveryBytes)
                {
                    RandomAccess.FlushToDisk(handle);
                    unflushed = 0;
                }

                progress?.Report(Math.Min(held, file.Length));
                if (!progressed && arrived.Count == 0)
                {
                    var state = _mqtt.IsConnected ? "no chunk arrived" : "the broker is unreachable";
                    throw new BundleRejectedException(RejectionReason.Timeout, $"{state} for '{file.Path}' within {timeout.TotalSeconds:0}s ({missing.Count} of {count} chunks missing, first {_mqtt.Topics.Blob(file.Sha256, missing[0])})");
                }
            }

            RandomAccess.FlushToDisk(handle);
            FaultInjection.Hit("assembling");
            sha = WholeFileSha256(handle, file.Length);
        }

        if (sha != file.Sha256)
        {
            Directory.Delete(parts, recursive: true);
            throw new BundleRejectedException(RejectionReason.HashMismatch, $"'{file.Path}' assembled to sha256 {sha}, the manifest says {file.Sha256}");
        }

        File.Move(partial, _store.BlobPath(file.Sha256), overwrite: true);
        FaultInjection.Hit("assembled");
        Directory.Delete(parts, recursive: true);
    }

    /// <summary>The chunks whose range in the partial file does not (yet) match the chunk table; all of them for a new file.</summary>
    private static List<int> MissingChunks(SafeFileHandle handle, BundleFileEntry file)
    {
        var count = file.ExpectedChunkCount();
        var length = RandomAccess.GetLength(handle);
        if (length == 0)
        {
            return [.. Enumerable.Range(0, count)];
        }

        var missing = new List<int>();
        var buffer = new byte[file.ChunkSize];
        for (var index = 0; index < count; index++)
        {
            var offset = (long)index * file.ChunkSize;
            var chunk = buffer.AsSpan(0, file.ChunkLength(index));
            if (offset + chunk.Length > length || ReadFully(handle, chunk, offset) != chunk.Length || !ChunkTable.ChunkMatches(file, index, chunk))
            {
                missing.Add(index);
            }
        }

        return missing;
    }

    private static int ReadFully(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    private static string WholeFileSha256(SafeFileHandle handle, long length)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        for (long offset = 0; offset < length;)
        {
            var read = RandomAccess.Read(handle, buffer, offset);
            if (read == 0)
            {
                break;
            }

            hash.AppendData(buffer, 0, read);
            offset += read;
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
