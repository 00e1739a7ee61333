using EdgeAgent.Agent.Deployment;
using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Options;
using EdgeAgent.Agent.Tests.Infrastructure;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Fleet.Mqtt;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet.Packets;
using MQTTnet.Server;

namespace EdgeAgent.Agent.Tests;

public sealed class ChunkFetcherTests
{
    [Fact]
    public async Task A_stopped_fetch_resumes_and_requests_only_the_chunks_whose_range_is_not_valid()
    {
        var work = Directory.CreateTempSubdirectory("edgeagent-chunks-").FullName;
        try
        {
            var data = new byte[(5 * 1024) + 100];
            new Random(3).NextBytes(data);
            var file = ChunkTable.Describe("model.onnx", new MemoryStream(data), chunkSize: 1024);
            await using var broker = await EmbeddedBroker.StartAsync();
            await using (var fleet = await FleetConnection.ConnectAsync(broker.Url, cancellationToken: TestContext.Current.CancellationToken))
            {
                for (var i = 0; i < file.Chunks.Count; i++)
                {
                    await fleet.PublishAsync(fleet.Topics.Blob(file.Sha256, i), data.AsMemory(i * 1024, file.ChunkLength(i)), retain: true, TestContext.Current.CancellationToken);
                }
            }

            var agent = Microsoft.Extensions.Options.Options.Create(new AgentOptions { DeviceId = "chunks-1", StateDirectory = Path.Combine(work, "state"), FetchTimeoutSeconds = 10 });
            Directory.CreateDirectory(agent.Value.StateDirectory);
            var store = new BundleStore(agent);

            // What a stopped fetch leaves: chunks 0, 1 and 4 written, chunk 2 torn (a power cut), chunk 3 and 5 never arrived.
            var partial = Path.Combine(store.PartsDirectory(file.Sha256), "data");
            Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
            var left = new byte[data.Length];
            data.AsSpan(0, 2048).CopyTo(left);
            data.AsSpan(2048, 500).CopyTo(left.AsSpan(2048));
            data.AsSpan(4096, 1024).CopyTo(left.AsSpan(4096));
            File.WriteAllBytes(partial, left);

            using var session = new MqttSession(agent, Microsoft.Extensions.Options.Options.Create(new MqttOptions { Url = broker.Url }), new SessionSequence(agent), NullLogger<MqttSession>.Instance, TimeProvider.System);
            await session.StartAsync(TestContext.Current.CancellationToken);
            await session.WhenConnectedAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            try
            {
                var fetcher = new ChunkFetcher(session, store, agent, NullLogger<ChunkFetcher>.Instance);
                var reports = new List<long>();
                await fetcher.FetchAsync(file, new SyncProgress(reports), TestContext.Current.CancellationToken);

                Assert.Equal(data, File.ReadAllBytes(store.BlobPath(file.Sha256)));
                Assert.False(Directory.Exists(store.PartsDirectory(file.Sha256)));
                Assert.Equal(3 * 1024, reports[0]);
                Assert.Equal(data.Length, reports[^1]);
                var requested = broker.Subscriptions.Where(s => s.Topic.Contains("/blobs/", StringComparison.Ordinal)).Select(s => int.Parse(s.Topic[(s.Topic.LastIndexOf('/') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
                Assert.Equal([2, 3, 5], requested.Order());
            }
            finally
            {
                await session.StopAsync(CancellationToken.None);
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task A_fetch_keeps_a_bounded_window_of_at_most_8_topics_per_packet_and_asks_again_for_a_bad_chunk()
    {
        var work = Directory.CreateTempSubdirectory("edgeagent-chunks-").FullName;
        var port = EmbeddedBroker.FreePort();
        var factory = new MqttServerFactory();
        using var server = factory.CreateMqttServer(factory.CreateServerOptionsBuilder().WithDefaultEndpoint().WithDefaultEndpointBoundIPAddress(System.Net.IPAddress.Loopback).WithDefaultEndpointPort(port).Build());
        var gate = new Lock();
        var held = new HashSet<string>(StringComparer.Ordinal);
        var mostHeld = 0;
        var largestPacket = 0;
        var subscribedTo = new List<string>();
        server.InterceptingInboundPacketAsync += e =>
        {
            lock (gate)
            {
                switch (e.Packet)
                {
                    case MqttSubscribePacket subscribe when subscribe.TopicFilters.Any(f => f.Topic.Contains("/blobs/", StringComparison.Ordinal)):
                        largestPacket = Math.Max(largestPacket, subscribe.TopicFilters.Count);
                        break;
                    case MqttUnsubscribePacket unsubscribe when unsubscribe.TopicFilters.Any(f => f.Contains("/blobs/", StringComparison.Ordinal)):
                        largestPacket = Math.Max(largestPacket, unsubscribe.TopicFilters.Count);
                        break;
                }
            }

            return Task.CompletedTask;
        };
        server.ClientSubscribedTopicAsync += e =>
        {
            lock (gate)
            {
                if (e.TopicFilter.Topic.Contains("/blobs/", StringComparison.Ordinal))
                {
                    held.Add(e.TopicFilter.Topic);
                    subscribedTo.Add(e.TopicFilter.Topic);
                    mostHeld = Math.Max(mostHeld, held.Count);
                }
            }

            return Task.CompletedTask;
        };
        server.ClientUnsubscribedTopicAsync += e =>
        {
            lock (gate)
            {
                held.Remove(e.TopicFilter);
            }

            return Task.CompletedTask;
        };
        await server.StartAsync();
        try
        {
            var data = new byte[(300 * 256) + 17];
            new Random(5).NextBytes(data);
            var file = ChunkTable.Describe("model.onnx", new MemoryStream(data), chunkSize: 256);
            await using var fleet = await FleetConnection.ConnectAsync($"mqtt://127.0.0.1:{port}", cancellationToken: TestContext.Current.CancellationToken);
            for (var i = 0; i < file.Chunks.Count; i++)
            {
                var chunk = data.AsMemory(i * 256, file.ChunkLength(i)).ToArray();
                if (i == 40)
                {
                    chunk[0] ^= 0xFF; // a bad copy on the broker, replaced once the device has rejected it
                }

                await fleet.PublishAsync(fleet.Topics.Blob(file.Sha256, i), chunk, retain: true, TestContext.Current.CancellationToken);
            }

            var agent = Microsoft.Extensions.Options.Options.Create(new AgentOptions { DeviceId = "chunks-2", StateDirectory = Path.Combine(work, "state"), FetchTimeoutSeconds = 10 });
            Directory.CreateDirectory(agent.Value.StateDirectory);
            var store = new BundleStore(agent);
            using var session = new MqttSession(agent, Microsoft.Extensions.Options.Options.Create(new MqttOptions { Url = $"mqtt://127.0.0.1:{port}" }), new SessionSequence(agent), NullLogger<MqttSession>.Instance, TimeProvider.System);
            await session.StartAsync(TestContext.Current.CancellationToken);
            await session.WhenConnectedAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            try
            {
                var fetcher = new ChunkFetcher(session, store, agent, NullLogger<ChunkFetcher>.Instance);
                var rejected = new List<string>();
                fetcher.ChunkRejected += (topic, _) =>
                {
                    rejected.Add(topic);
                    fleet.PublishAsync(topic, data.AsMemory(40 * 256, 256), retain: true, CancellationToken.None).GetAwaiter().GetResult();
                };

                await fetcher.FetchAsync(file, progress: null, TestContext.Current.CancellationToken);

                Assert.Equal(data, File.ReadAllBytes(store.BlobPath(file.Sha256)));
                Assert.Equal([fleet.Topics.Blob(file.Sha256, 40)], rejected);
                Assert.Equal(data.Length + 256, fetcher.BytesReceived);
                lock (gate)
                {
                    Assert.InRange(mostHeld, MqttSession.MaxFiltersPerPacket + 1, ChunkFetcher.WindowSize);
                    Assert.InRange(largestPacket, 1, MqttSession.MaxFiltersPerPacket);
                    Assert.Equal(2, subscribedTo.Count(t => t == fleet.Topics.Blob(file.Sha256, 40)));
                    Assert.Equal(file.Chunks.Count + 1, subscribedTo.Count);
                }

                await Wait.UntilAsync(() => { lock (gate) { return held.Count == 0; } }, Wait.Default, "every chunk topic to be unsubscribed");
            }
            finally
            {
                await session.StopAsync(CancellationToken.None);
            }
        }
        finally
        {
            await server.StopAsync();
            Directory.Delete(work, recursive: true);
        }
    }

    private sealed class SyncProgress(List<long> reports) : IProgress<long>
    {
        public void Report(long value) => reports.Add(value);
    }
}
