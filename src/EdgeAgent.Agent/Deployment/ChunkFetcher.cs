using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Bundles;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace EdgeAgent.Agent.Deployment;

/// <summary>
/// Pulls the chunks of a file it lacks from <c>{p}/blobs/{sha256}/{index}</c> through a sliding window of exact topics
/// (<see cref="TopicFeed"/>): at most <see cref="WindowSize"/> chunks (and <see cref="WindowBytes"/>) are subscribed at a
/// time, in SUBSCRIBE packets of up to <see cref="MqttSession.MaxFiltersPerPacket"/>, and a chunk is checked and written
/// as soon as it arrives while the next ones are on their way. Each chunk is checked against the signed chunk table
/// before it is written at its offset into one partial file (<c>blobs/SHA256.parts/data</c>); a fetch that stops
/// resumes by checking every chunk range of that file against the table again, so a range that never arrived or was
/// torn by a power cut is simply fetched again. A file already held is never fetched again.
/// </summary>
public sealed class ChunkFetcher
{
    /// <summary>Most chunk topics subscribed at a time (AWS IoT Core allows 50 subscriptions per connection).</summary>
    public const int WindowSize = 32;

    /// <summary>Most chunk bytes subscribed at a time: with large chunks the window holds fewer of them.</summary>
    public const int WindowBytes = 4 * 1024 * 1024;

    public const int MaxBadCopies = 3;

    /// <summary>
    /// The partial file is flushed to disk after this many new bytes, in the background while the fetch goes on (one
    /// flush at a time): what a power cut can cost is re-fetching about twice this much, without an fsync per chunk
    /// (which made the fetch disk-bound, see bench/EdgeAgent.Bench -- chunks). The last flush, before the file is
    /// renamed into place, is waited for.
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

    /// <summary>How many chunks are subscribed at a time: <see cref="WindowSize"/>, fewer for large chunks, about one second's worth under a bandwidth cap.</summary>
    public static int WindowFor(int chunkSize, long maxBytesPerSecond)
    {
        var size = Math.Clamp(WindowBytes / Math.Max(1, chunkSize), 1, WindowSize);
        return maxBytesPerSecond > 0 ? (int)Math.Clamp(maxBytesPerSecond / Math.Max(1, chunkSize), 1, size) : size;
    }

    /// <summary>
    /// Makes sure <c>blobs/SHA256</c> holds the whole file, every byte of it checked against the signed chunk table.
    /// </summary>
    /// <remarks>
    /// The whole file is not hashed again here: that would be a second SHA-256 pass over every byte for no added
    /// guarantee. The manifest verifier (<see cref="ManifestVerifier.CheckRules"/>) accepts a chunk table only if it
    /// has exactly <see cref="BundleFileEntry.ExpectedChunkCount"/> entries, so the chunk ranges
    /// <c>[i × chunkSize, i × chunkSize + ChunkLength(i))</c> tile <c>[0, length)</c> without gap or overlap;
    /// <see cref="ChunkTable.ChunkMatches"/> requires each chunk's exact length and SHA-256; the partial file is set to
    /// exactly <c>length</c> bytes; and every range is checked before it is written (a fresh chunk) or when the fetch
    /// resumes (a range already on disk, see <see cref="MissingChunks"/>), with the file flushed to disk before it is
    /// renamed. So "every chunk verified" means "every byte is what the signed manifest says". The manifest's
    /// whole-file <c>sha256</c> is checked where the file is used: <see cref="BundleInstaller.Install"/> hashes each file
    /// as it copies it into the version folder and refuses it (<c>hash-mismatch</c>, cached blob removed) if a chunk
    /// table signed by a trusted key ever disagreed with the file hash it signed alongside.
    /// </remarks>
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
        using (var handle = File.OpenHandle(partial, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var missing = MissingChunks(handle, file);
            if (RandomAccess.GetLength(handle) != file.Length)
            {
                RandomAccess.SetLength(handle, file.Length);
            }

            long held = (count - missing.Count) * (long)file.ChunkSize;
            progress?.Report(Math.Min(held, file.Length));
            await PullAsync(file, handle, missing, held, progress, cancellationToken);
            RandomAccess.FlushToDisk(handle);
            FaultInjection.Hit("assembling");
        }

        File.Move(partial, _store.BlobPath(file.Sha256), overwrite: true);
        FaultInjection.Hit("assembled");
        Directory.Delete(parts, recursive: true);
    }

    /// <summary>
    /// Fetches the <paramref name="missing"/> chunks into the partial file: the window is topped up a SUBSCRIBE packet at
    /// a time, each chunk is checked and written as it arrives, and arrived topics are unsubscribed a packet at a time.
    /// </summary>
    private async Task PullAsync(BundleFileEntry file, SafeFileHandle handle, SortedSet<int> missing, long held, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var count = file.ExpectedChunkCount();
        var badCopies = new Dictionary<int, int>();
        var timeout = TimeSpan.FromSeconds(_options.FetchTimeoutSeconds);
        long unflushed = 0;
        var cap = _options.MaxFetchBytesPerSecond;
        var windowSize = WindowFor(file.ChunkSize, cap);
        var packetSize = Math.Min(MqttSession.MaxFiltersPerPacket, windowSize);
        var started = _time.GetTimestamp();
        long fetched = 0;
        var toRequest = new SortedSet<int>(missing);
        var outstanding = new Dictionary<string, int>(StringComparer.Ordinal);
        var done = new List<string>(packetSize);
        var flushing = Task.CompletedTask;
        await using var feed = _mqtt.OpenFeed();
        try
        {
            while (missing.Count > 0)
            {
                // Keep the window full, a whole SUBSCRIBE packet at a time (or what is left to request). The window
                // counts every chunk topic from its SUBSCRIBE until the broker confirmed its UNSUBSCRIBE.
                while (toRequest.Count > 0 && windowSize - feed.Held >= Math.Min(packetSize, toRequest.Count))
                {
                    if (cap > 0)
                    {
                        // Under a cap, the window holds about one second's worth: more is asked for once the bytes
                        // received since the start fit the rate.
                        var due = TimeSpan.FromSeconds((double)fetched / cap) - _time.GetElapsedTime(started);
                        if (due > TimeSpan.Zero)
                        {
                            await Task.Delay(due, _time, cancellationToken);
                        }
                    }

                    var batch = new List<string>(packetSize);
                    while (batch.Count < Math.Min(packetSize, windowSize - feed.Held) && toRequest.Count > 0)
                    {
                        var index = toRequest.Min;
                        toRequest.Remove(index);
                        var topic = _mqtt.Topics.Blob(file.Sha256, index);
                        outstanding[topic] = index;
                        batch.Add(topic);
                    }

                    feed.Subscribe(batch, cancellationToken);
                }

                var message = await feed.ReadAsync(timeout, cancellationToken);
                if (message is null)
                {
                    var state = _mqtt.IsConnected ? "no chunk arrived" : "the broker is unreachable";
                    throw new BundleRejectedException(RejectionReason.Timeout, $"{state} for '{file.Path}' within {timeout.TotalSeconds:0}s ({missing.Count} of {count} chunks missing, first {_mqtt.Topics.Blob(file.Sha256, missing.Min)})");
                }

                using var owned = message;
                if (message.Freed)
                {
                    // Room in the window: top it up.
                    continue;
                }

                if (!outstanding.Remove(message.Topic, out var chunk))
                {
                    // Not (or no longer) asked for: a second copy after a reconnect subscribed the window again, or a copy
                    // republished while a rejected chunk was still subscribed. Only the copy asked for is checked.
                    continue;
                }

                Interlocked.Add(ref _received, message.Length);
                fetched += message.Length;
                if (!ChunkTable.ChunkMatches(file, chunk, message.Payload))
                {
                    Log.ChunkHashMismatch(_logger, chunk, file.Sha256);
                    ChunkRejected?.Invoke(message.Topic, $"chunk {chunk} of '{file.Path}' does not match the signed chunk table ({message.Length} bytes; bad copy {badCopies.GetValueOrDefault(chunk) + 1} of at most {MaxBadCopies})");
                    var bad = badCopies[chunk] = badCopies.GetValueOrDefault(chunk) + 1;
                    if (bad >= MaxBadCopies)
                    {
                        throw new BundleRejectedException(RejectionReason.HashMismatch, $"chunk {chunk} of '{file.Path}' failed its sha256 check {bad} times (the published chunk does not match the signed manifest)");
                    }

                    // Asked for again: a fresh SUBSCRIBE makes the broker send the retained chunk again, and it must not
                    // overtake this UNSUBSCRIBE.
                    await feed.UnsubscribeAsync([message.Topic]);
                    toRequest.Add(chunk);
                    continue;
                }

                done.Add(message.Topic);
                if (done.Count >= packetSize || outstanding.Count == 0)
                {
                    feed.Unsubscribe(done);
                    done = new List<string>(packetSize);
                }

                if (FaultInjection.IsArmed($"chunk-partial:{chunk}"))
                {
                    // A torn write: half the chunk lands at its offset, then the process dies.
                    RandomAccess.Write(handle, message.Payload[..(message.Length / 2)], (long)chunk * file.ChunkSize);
                    RandomAccess.FlushToDisk(handle);
                    FaultInjection.Hit($"chunk-partial:{chunk}");
                }

                RandomAccess.Write(handle, message.Payload, (long)chunk * file.ChunkSize);
                FaultInjection.Hit($"chunk:{chunk}");
                missing.Remove(chunk);
                held += message.Length;
                unflushed += message.Length;
                if (unflushed >= FlushEveryBytes && flushing.IsCompleted)
                {
                    // In the background: the fetch goes on while the disk catches up. A failed flush fails the fetch.
                    await flushing;
                    flushing = Task.Run(() => RandomAccess.FlushToDisk(handle), CancellationToken.None);
                    unflushed = 0;
                }

                progress?.Report(Math.Min(held, file.Length));
            }
        }
        finally
        {
            // The handle must outlive the background flush.
            await flushing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await flushing;
    }

    /// <summary>The chunks whose range in the partial file does not (yet) match the chunk table; all of them for a new file.</summary>
    private static SortedSet<int> MissingChunks(SafeFileHandle handle, BundleFileEntry file)
    {
        var count = file.ExpectedChunkCount();
        var length = RandomAccess.GetLength(handle);
        if (length == 0)
        {
            return [.. Enumerable.Range(0, count)];
        }

        var missing = new SortedSet<int>();
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
}
