using System.Collections.Concurrent;
using System.Text.Json;
using EdgeAgent.Agent.Tests.Infrastructure;
using EdgeAgent.Core.Telemetry;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Agent.Tests.Crash;

/// <summary>
/// Issue 6's evidence for agent crashes: a real <c>edge-agent</c> process serving continuously is killed with SIGKILL,
/// once between a batch's PUBACK and its delete (so that batch is sent again) and once at an arbitrary moment mid-stream.
/// After the restarts a consumer that de-duplicates by <c>seq</c> holds every record exactly once, with no gap, and a
/// <c>seq</c> seen twice always carried the same record (a value is never reused for another one).
/// </summary>
public sealed class OutboxCrashTests(CrashFixture fixture) : IClassFixture<CrashFixture>
{
    [Fact]
    public async Task After_kill_9_the_consumer_holds_every_record_exactly_once_and_no_seq_is_reused()
    {
        const string Device = "outbox-kill";
        var state = Path.Combine(fixture.Work, Device);
        CopyState(fixture.Template, state);
        await fixture.SetDesiredAsync(Device, "1.0.0");
        var config = fixture.Config(Device, state);

        // The consumer: every record on the device's outbox topics, by seq, with its exact bytes.
        var seen = new ConcurrentDictionary<long, string>();
        var mismatches = new ConcurrentQueue<string>();
        var ledger = new SeqLedger();
        var ledgerGate = new Lock();
        await using var consumer = await FleetConnection.ConnectAsync(fixture.Broker.Url, cancellationToken: TestContext.Current.CancellationToken);
        consumer.MessageReceived += (topic, payload) =>
        {
            var leaf = topic[(topic.LastIndexOf('/') + 1)..];
            if (!AgentRig.OutboxTopics.Contains(leaf) || payload.Length == 0)
            {
                return;
            }

            using var doc = JsonDocument.Parse(payload);
            foreach (var record in OutboxPayload.Records(doc.RootElement))
            {
                var seq = OutboxPayload.Seq(record);
                var text = record.GetRawText();
                lock (ledgerGate)
                {
                    ledger.Add(seq);
                }

                if (seen.GetOrAdd(seq, text) != text)
                {
                    mismatches.Enqueue($"seq {seq}: {seen[seq]} / {text}");
                }
            }
        };
        await consumer.WatchAsync($"edgeagent/v1/devices/{Device}/#", TestContext.Current.CancellationToken);
        using var api = new UnixSocketApi(fixture.Socket(Device));

        // 1. Killed right after the first PUBACK, before the outbox deleted what it acknowledged.
        await using (var doomed = await AgentProcess.StartAsync(config, killAt: "outbox-acked"))
        {
            Assert.True(await doomed.WaitForExitAsync(TimeSpan.FromSeconds(60)), $"the agent never published:\n{doomed.Output}");
            Assert.Equal(137, doomed.ExitCode);
        }

        // 2. Serving continuously, killed at an arbitrary moment once a few windows have gone out.
        await using (var agent = await AgentProcess.StartAsync(config))
        {
            using var stop = new CancellationTokenSource();
            var load = InferAsync(api, stop.Token);
            var before = seen.Count;
            await Wait.UntilAsync(() => seen.Count >= before + 10, TimeSpan.FromSeconds(60), $"records from the restarted agent (exited: {agent.HasExited})");
            await agent.KillAsync();
            await stop.CancelAsync();
            Assert.True(await load > 0);
        }

        long seqAtKill;
        lock (ledgerGate)
        {
            seqAtKill = ledger.Highest;
        }

        // 3. Started again: it sends what was left and goes on numbering after the highest seq it ever handed out.
        await using (var agent = await AgentProcess.StartAsync(config))
        {
            using var stop = new CancellationTokenSource();
            var load = InferAsync(api, stop.Token);
            var lastSeq = 0L;
            await Wait.UntilAsync(
                async () =>
                {
                    lastSeq = await LastSeqAsync(api);
                    lock (ledgerGate)
                    {
                        return lastSeq > seqAtKill + 4 && ledger.Highest >= lastSeq && ledger.Gaps().Count == 0;
                    }
                },
                TimeSpan.FromSeconds(60),
                $"every seq up to the agent's last at the consumer (exited: {agent.HasExited})");
            await stop.CancelAsync();
            await load;

            lock (ledgerGate)
            {
                Assert.Empty(ledger.Gaps());
                Assert.True(ledger.Duplicates >= 1, "the batch acknowledged before the first kill was sent again");
                TestContext.Current.TestOutputHelper?.WriteLine($"{ledger.Distinct} records, seq 1..{ledger.Highest}, {ledger.Duplicates} duplicate(s) dropped by seq");
            }

            Assert.Empty(mismatches);
            using var metrics = (await api.GetAsync("/v1/metrics")).Body;
            Assert.Equal(0, metrics.RootElement.GetProperty("outbox").GetProperty("dropped").EnumerateObject().Sum(p => p.Value.GetInt64()));
        }
    }

    private static async Task<long> LastSeqAsync(UnixSocketApi api)
    {
        try
        {
            var (status, body) = await api.GetAsync("/v1/metrics");
            using (body)
            {
                return status == 200 ? body.RootElement.GetProperty("outbox").GetProperty("lastSeq").GetInt64() : 0;
            }
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    /// <summary>Requests every 20 ms until <paramref name="stop"/>; the agent may be starting or dead, so failures only count out.</summary>
    private static async Task<long> InferAsync(UnixSocketApi api, CancellationToken stop)
    {
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        long served = 0;
        try
        {
            while (await pace.WaitForNextTickAsync(stop))
            {
                try
                {
                    var (status, body) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
                    body.Dispose();
                    served += status == 200 ? 1 : 0;
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException)
                {
                    // Not up yet, or just killed.
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Done.
        }

        return served;
    }

    /// <summary>The template's state without its lock and without its outbox, so this device's sequence starts at 1.</summary>
    private static void CopyState(string from, string to)
    {
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(dir.Replace(from, to, StringComparison.Ordinal));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(file);
            if (!name.EndsWith(".lock", StringComparison.Ordinal) && !name.StartsWith("outbox", StringComparison.Ordinal))
            {
                File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
            }
        }
    }
}
