using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using EdgeAgent.Agent.Deployment;
using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Mqtt;
using EdgeAgent.Fleet.Bundles;
using EdgeAgent.Fleet.Mqtt;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeAgent.Bench;

/// <summary>
/// Chunk pull throughput (issue 4): a 100 MB file published as retained chunks by the real <see cref="BundlePublisher"/>
/// (default chunk size) to a mosquitto the benchmark starts, pulled (a) by plain MQTTnet clients that only count the
/// bytes and (b) by the agent's <see cref="ChunkFetcher"/> (through <see cref="MqttSession"/>: sliding window of exact
/// topics, every chunk hashed and written into the partial file, fsync, rename). Runs are interleaved; the ratio
/// compares the best run of each.
/// </summary>
internal static class ChunkPullBenchmark
{
    private const int FileMegabytes = 100;
    private const string BaselineClientPrefix = "bench-plain-";

    public static async Task RunAsync(int runs)
    {
        var work = Directory.CreateTempSubdirectory("edgeagent-bench-chunks-").FullName;
        try
        {
            await using var broker = await Broker.StartAsync(work);
            Console.WriteLine($"chunk pull benchmark: {Environment.ProcessorCount} cores, {FileMegabytes} MB file, {ChunkTable.DefaultChunkSize / 1024} KiB chunks, best of {runs} runs");
            Console.WriteLine($"broker: {broker.Description}");

            var (bundle, trust, file) = MakeBundle(work);
            using (trust)
            {
                var topics = new Topics(Topics.DefaultPrefix);
                var t0 = Stopwatch.GetTimestamp();
                await using (var fleet = await FleetConnection.ConnectAsync(broker.Url))
                {
                    await BundlePublisher.PublishAsync(fleet, bundle, trust, progress: null);
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"published {file.Chunks.Count} retained chunks with BundlePublisher in {Stopwatch.GetElapsedTime(t0).TotalSeconds:0.0} s"));

                var cases = new (string Name, Func<Task<double>> Run)[]
                {
                    ("plain: wildcard {p}/blobs/{sha}/+ QoS 1", () => PlainWildcardAsync(broker.Url, topics, file)),
                    ("plain: exact topics, 16 per SUBSCRIBE", () => PlainWindowedAsync(broker.Url, topics, file, 16)),
                };
                var plain = cases.Select(_ => new List<double>()).ToArray();
                var floorTimes = new List<double>();
                var agentTimes = new List<double>();
                await using var agent = await AgentPull.StartAsync(broker.Url, Path.Combine(work, "agent-state"));
                for (var run = 1; run <= runs; run++)
                {
                    for (var c = 0; c < cases.Length; c++)
                    {
                        var cpu = Cpu.Start(broker);
                        var seconds = await cases[c].Run();
                        plain[c].Add(seconds);
                        Console.WriteLine(Line($"run {run}: {cases[c].Name}", file.Length, seconds) + cpu.Stop());
                    }

                    var floorCpu = Cpu.Start(broker);
                    var floorSeconds = await RequiredWorkAsync(broker.Url, topics, file, Path.Combine(work, "floor.bin"));
                    floorTimes.Add(floorSeconds);
                    Console.WriteLine(Line($"run {run}: plain + required work (chunk hashes, writes, 1 fsync)", file.Length, floorSeconds) + floorCpu.Stop());

                    var agentCpu = Cpu.Start(broker);
                    var agentSeconds = await agent.PullAsync(file);
                    agentTimes.Add(agentSeconds);
                    Console.WriteLine(Line($"run {run}: agent ChunkFetcher (window, verify, write, fsync)", file.Length, agentSeconds) + agentCpu.Stop());
                }

                Console.WriteLine();
                var bestPlain = double.MaxValue;
                var bestPlainName = string.Empty;
                for (var c = 0; c < cases.Length; c++)
                {
                    var best = plain[c].Min();
                    Console.WriteLine(Line($"best {cases[c].Name}", file.Length, best));
                    if (best < bestPlain)
                    {
                        (bestPlain, bestPlainName) = (best, cases[c].Name);
                    }
                }

                var bestFloor = floorTimes.Min();
                Console.WriteLine(Line("best plain + required work (chunk hashes, writes, 1 fsync)", file.Length, bestFloor));
                var bestAgent = agentTimes.Min();
                Console.WriteLine(Line("best agent ChunkFetcher", file.Length, bestAgent));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"chunk pull: agent {Mbps(file.Length, bestAgent):0} MB/s; baseline ({bestPlainName}) {Mbps(file.Length, bestPlain):0} MB/s; ratio {bestPlain / bestAgent:0.00}x of the baseline (goal >= 0.8x); {bestFloor / bestAgent:0.00}x of plain + required work"));
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static double Mbps(long bytes, double seconds) => bytes / 1e6 / seconds;

    private static string Line(string name, long bytes, double seconds) =>
        string.Create(CultureInfo.InvariantCulture, $"{name,-62} {seconds,7:0.000} s {Mbps(bytes, seconds),8:0.0} MB/s");

    /// <summary>CPU seconds used during one case by this process (clients, agent) and by the broker process.</summary>
    private readonly record struct Cpu(Broker Broker, TimeSpan Self, TimeSpan BrokerCpu)
    {
        public static Cpu Start(Broker broker) => new(broker, Environment.CpuUsage.TotalTime, broker.CpuTime);

        public string Stop() => string.Create(CultureInfo.InvariantCulture, $"  cpu: bench {(Environment.CpuUsage.TotalTime - Self).TotalSeconds:0.000} s, broker {(Broker.CpuTime - BrokerCpu).TotalSeconds:0.000} s");
    }

    private static (string Bundle, TrustedKeys Trust, BundleFileEntry File) MakeBundle(string work)
    {
        var blob = Path.Combine(work, "model.onnx");
        var random = new Random(11);
        using (var stream = File.Create(blob))
        {
            var block = new byte[1 << 20];
            for (var i = 0; i < FileMegabytes; i++)
            {
                random.NextBytes(block);
                stream.Write(block);
            }
        }

        BundleFileEntry entry;
        using (var stream = File.OpenRead(blob))
        {
            entry = ChunkTable.Describe("model.onnx", stream);
        }

        using var signer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var manifest = new BundleManifest { Name = "big", Version = "1.0.0", Created = DateTimeOffset.UtcNow, Model = "model.onnx", Files = [entry] };
        var envelope = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(ManifestSigner.Sign(manifest, [signer]), Core.CoreJson.Options);
        var bundle = Path.Combine(work, "big-1.0.0.edgebundle");
        BundleArchive.Write(bundle, envelope, [("model.onnx", blob)]);
        File.Delete(blob);
        var trust = new TrustedKeys();
        trust.AddPem(signer.ExportSubjectPublicKeyInfoPem());
        return (bundle, trust, entry);
    }

    private static async Task<IMqttClient> ConnectPlainAsync(string url, Func<MqttApplicationMessageReceivedEventArgs, Task> onMessage)
    {
        var broker = BrokerAddress.Parse(url);
        var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += onMessage;
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(broker.Host, broker.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(BaselineClientPrefix + Guid.NewGuid().ToString("N"))
            .WithCleanStart(true)
            .Build();
        var tcp = (MqttClientTcpOptions)options.ChannelOptions;
        tcp.BufferSize = 65536;
        tcp.NoDelay = true;
        await client.ConnectAsync(options);
        return client;
    }

    /// <summary>One wildcard subscription: the broker streams every retained chunk; the client only counts bytes.</summary>
    private static async Task<double> PlainWildcardAsync(string url, Topics topics, BundleFileEntry file)
    {
        var prefix = $"{topics.Prefix}/blobs/{file.Sha256}/";
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long bytes = 0;
        var count = 0;
        using var client = await ConnectPlainAsync(url, e =>
        {
            if (e.ApplicationMessage.Topic.StartsWith(prefix, StringComparison.Ordinal))
            {
                bytes += e.ApplicationMessage.Payload.Length;
                if (++count == file.Chunks.Count)
                {
                    done.TrySetResult();
                }
            }

            return Task.CompletedTask;
        });
        var t0 = Stopwatch.GetTimestamp();
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(f => f.WithTopic(prefix + "+").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)).Build());
        await done.Task.WaitAsync(TimeSpan.FromMinutes(2));
        var seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        Check(bytes, file);
        await client.DisconnectAsync();
        return seconds;
    }

    /// <summary>Exact topics, <paramref name="window"/> per SUBSCRIBE, unsubscribed once they arrived: the agent's protocol pattern, nothing else.</summary>
    private static async Task<double> PlainWindowedAsync(string url, Topics topics, BundleFileEntry file, int window)
    {
        var pending = new HashSet<string>(StringComparer.Ordinal);
        var gate = new Lock();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long bytes = 0;
        using var client = await ConnectPlainAsync(url, e =>
        {
            lock (gate)
            {
                if (pending.Remove(e.ApplicationMessage.Topic))
                {
                    bytes += e.ApplicationMessage.Payload.Length;
                    if (pending.Count == 0)
                    {
                        done.TrySetResult();
                    }
                }
            }

            return Task.CompletedTask;
        });
        var t0 = Stopwatch.GetTimestamp();
        for (var first = 0; first < file.Chunks.Count; first += window)
        {
            var names = Enumerable.Range(first, Math.Min(window, file.Chunks.Count - first)).Select(i => topics.Blob(file.Sha256, i)).ToList();
            lock (gate)
            {
                done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                pending.UnionWith(names);
            }

            var subscribe = new MqttClientSubscribeOptionsBuilder();
            var unsubscribe = new MqttClientUnsubscribeOptionsBuilder();
            foreach (var name in names)
            {
                subscribe.WithTopicFilter(f => f.WithTopic(name).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce));
                unsubscribe.WithTopicFilter(name);
            }

            await client.SubscribeAsync(subscribe.Build());
            await done.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await client.UnsubscribeAsync(unsubscribe.Build());
        }

        var seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        Check(bytes, file);
        await client.DisconnectAsync();
        return seconds;
    }

    /// <summary>
    /// The least any verifying fetcher has to do, on the fastest plain transport, done inline on the client's receive
    /// thread: wildcard subscription, each chunk checked against the chunk table and written at its offset into one
    /// file, one fsync. (No whole-file read-back: chunks that all match the signed table are the file, see
    /// <see cref="ChunkFetcher.FetchAsync"/>.) No resumability, no bounded window, no second thread: a reference for
    /// what the disk and the hashing cost here, not a design.
    /// </summary>
    private static async Task<double> RequiredWorkAsync(string url, Topics topics, BundleFileEntry file, string path)
    {
        var prefix = $"{topics.Prefix}/blobs/{file.Sha256}/";
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var count = 0;
        using var handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        using var client = await ConnectPlainAsync(url, e =>
        {
            var topic = e.ApplicationMessage.Topic;
            if (topic.StartsWith(prefix, StringComparison.Ordinal))
            {
                var index = int.Parse(topic.AsSpan(prefix.Length), CultureInfo.InvariantCulture);
                var payload = e.ApplicationMessage.Payload.ToArray();
                if (!ChunkTable.ChunkMatches(file, index, payload))
                {
                    done.TrySetException(new InvalidDataException($"chunk {index} does not match"));
                }

                RandomAccess.Write(handle, payload, (long)index * file.ChunkSize);
                if (++count == file.Chunks.Count)
                {
                    done.TrySetResult();
                }
            }

            return Task.CompletedTask;
        });
        var t0 = Stopwatch.GetTimestamp();
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(f => f.WithTopic(prefix + "+").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)).Build());
        await done.Task.WaitAsync(TimeSpan.FromMinutes(2));
        RandomAccess.FlushToDisk(handle);
        var seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        await client.DisconnectAsync();
        return seconds;
    }

    private static void Check(long bytes, BundleFileEntry file)
    {
        if (bytes != file.Length)
        {
            throw new InvalidOperationException($"received {bytes} bytes, expected {file.Length}");
        }
    }

    /// <summary>The agent's parts as its DI builds them (AgentHost): MqttSession, BundleStore, ChunkFetcher.</summary>
    private sealed class AgentPull : IAsyncDisposable
    {
        private readonly MqttSession _session;
        private readonly BundleStore _store;
        private readonly ChunkFetcher _fetcher;

        private AgentPull(MqttSession session, BundleStore store, ChunkFetcher fetcher)
        {
            _session = session;
            _store = store;
            _fetcher = fetcher;
        }

        public static async Task<AgentPull> StartAsync(string url, string stateDirectory)
        {
            Directory.CreateDirectory(stateDirectory);
            var agent = Options.Create(new AgentOptions { DeviceId = "bench-1", StateDirectory = stateDirectory });
            var mqtt = Options.Create(new MqttOptions { Url = url });
            var session = new MqttSession(agent, mqtt, new SessionSequence(agent), NullLogger<MqttSession>.Instance, TimeProvider.System);
            var store = new BundleStore(agent);
            var fetcher = new ChunkFetcher(session, store, agent, NullLogger<ChunkFetcher>.Instance);
            await session.StartAsync(CancellationToken.None);
            await session.WhenConnectedAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
            return new AgentPull(session, store, fetcher);
        }

        public async Task<double> PullAsync(BundleFileEntry file)
        {
            if (Directory.Exists(_store.BlobDirectory))
            {
                Directory.Delete(_store.BlobDirectory, recursive: true);
            }

            var t0 = Stopwatch.GetTimestamp();
            await _fetcher.FetchAsync(file, progress: null, CancellationToken.None);
            var seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            if (!_store.HasBlob(file))
            {
                throw new InvalidOperationException("the agent did not assemble the blob");
            }

            return seconds;
        }

        public async ValueTask DisposeAsync()
        {
            await _session.StopAsync(CancellationToken.None);
            _session.Dispose();
        }
    }

    /// <summary>mosquitto on a free port with a generated config, or the embedded MQTTnet server when mosquitto is missing.</summary>
    internal sealed class Broker : IAsyncDisposable
    {
        private static readonly string[] MosquittoPaths = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"];
        private readonly Process? _mosquitto;
        private readonly EmbeddedBroker? _embedded;

        private Broker(Process? mosquitto, EmbeddedBroker? embedded, string url, string description)
        {
            _mosquitto = mosquitto;
            _embedded = embedded;
            Url = url;
            Description = description;
        }

        public string Url { get; }

        public string Description { get; }

        /// <summary>CPU time of the mosquitto process so far (zero for the embedded server, which runs in this process).</summary>
        public TimeSpan CpuTime
        {
            get
            {
                if (_mosquitto is null)
                {
                    return TimeSpan.Zero;
                }

                _mosquitto.Refresh();
                return _mosquitto.TotalProcessorTime;
            }
        }

        public static async Task<Broker> StartAsync(string work)
        {
            var path = MosquittoPaths.FirstOrDefault(File.Exists);
            if (path is null)
            {
                var embedded = await EmbeddedBroker.StartAsync();
                return new Broker(null, embedded, embedded.Url, "MOSQUITTO NOT INSTALLED: embedded MQTTnet server instead (numbers are not comparable with a mosquitto run)");
            }

            var port = EmbeddedBroker.FreePort();
            var config = Path.Combine(work, "mosquitto.conf");
            // Nagle off (shared/pitfalls.md); room for 100 MB of retained chunks and for a whole file's chunks queued
            // to one subscriber (the default max_queued_messages of 1000 would drop part of a wildcard subscription).
            await File.WriteAllTextAsync(config, string.Join('\n',
                $"listener {port} 127.0.0.1",
                "allow_anonymous true",
                "set_tcp_nodelay true",
                "persistence false",
                "memory_limit 0",
                "max_queued_messages 10000",
                "max_queued_bytes 0",
                "message_size_limit 0",
                "log_type error",
                string.Empty));
            var process = Process.Start(new ProcessStartInfo(path, ["-c", config]) { UseShellExecute = false }) ?? throw new InvalidOperationException("mosquitto did not start");
            var broker = new Broker(process, null, $"mqtt://127.0.0.1:{port}", $"{path} (generated config: set_tcp_nodelay true, max_queued_messages 10000, no memory limit)");
            var until = Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency);
            while (!Fleet.MosquittoProcess.CanConnect(port))
            {
                if (Stopwatch.GetTimestamp() > until || process.HasExited)
                {
                    await broker.DisposeAsync();
                    throw new InvalidOperationException("mosquitto did not accept connections within 10 s");
                }

                await Task.Delay(50);
            }

            return broker;
        }

        public async ValueTask DisposeAsync()
        {
            if (_mosquitto is not null)
            {
                if (!_mosquitto.HasExited)
                {
                    _mosquitto.Kill();
                    await _mosquitto.WaitForExitAsync();
                }

                _mosquitto.Dispose();
            }

            if (_embedded is not null)
            {
                await _embedded.DisposeAsync();
            }
        }
    }
}
