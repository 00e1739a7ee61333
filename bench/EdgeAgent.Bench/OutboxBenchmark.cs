using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Options;
using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Core;
using EdgeAgent.Core.Mqtt;
using EdgeAgent.Core.Telemetry;
using LiteDB;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using JsonSerializer = System.Text.Json.JsonSerializer;

namespace EdgeAgent.Bench;

/// <summary>
/// Outbox throughput (issue 6), each beside a raw baseline measured in the same run, interleaved, as a ratio:
/// <list type="bullet">
/// <item>write: <c>Outbox.EnqueueUtf8</c> in batches of 1000 records (one transaction each: seq, inserts, counters) against
/// LiteDB's <c>InsertBulk</c> of the same documents in batches of 1000 into a fresh file (goal: at least 100,000 records/s);</item>
/// <item>drain: <c>OutboxPublisher.DrainAsync</c> through the agent's <c>MqttSession</c> to mosquitto with QoS 1 (batches of
/// <c>Telemetry:OutboxBatchMaxBytes</c>, 8 awaiting PUBACK, delete after each PUBACK) against a plain MQTTnet client
/// publishing the same batch payloads with QoS 1 and 8 in flight, without any storage.</item>
/// </list>
/// Records are metrics windows as the agent writes them (about 500 bytes of JSON).
/// </summary>
internal static class OutboxBenchmark
{
    private const int WriteRecords = 100_000;
    private const int DrainRecords = 50_000;
    private const int Batch = 1000;
    private const int InFlight = OutboxPublisher.MaxInFlight;

    public static async Task RunAsync(int rounds)
    {
        var work = Directory.CreateTempSubdirectory("edgeagent-bench-outbox-").FullName;
        try
        {
            var template = Template();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"outbox benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}, records of {template.Length + 4} bytes (a metrics window with output statistics), {rounds} rounds interleaved; load average {LoadAverage()}"));

            // Warm-up (JIT, LiteDB's first file), not reported: otherwise the case that runs first in round 1 pays for it.
            InsertBulk(Path.Combine(work, "warm-raw.db"), template);
            Enqueue(Path.Combine(work, "warm-outbox"), template, Batch, WriteRecords, 1L << 40);

            var writes = new List<(double Baseline, double Outbox, double Single, double Full, double Json)>();
            for (var round = 1; round <= rounds; round++)
            {
                var baseline = InsertBulk(Path.Combine(work, $"raw-{round}.db"), template);
                var batched = Enqueue(Path.Combine(work, $"outbox-{round}"), template, Batch, WriteRecords, 1L << 40);
                var single = Enqueue(Path.Combine(work, $"single-{round}"), template, 1, 10_000, 1L << 40);
                var full = EnqueueOverBudget(Path.Combine(work, $"full-{round}"), template);
                var json = EnqueueMetrics(Path.Combine(work, $"json-{round}"));
                writes.Add((baseline, batched, single, full, json));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  write round {round}: LiteDB InsertBulk {baseline,9:0} rec/s | outbox batched {batched,9:0} rec/s ({batched / baseline:0.00}x) | single {single,7:0} rec/s | batched at a full 16 MiB budget (each batch drops as much) {full,9:0} rec/s | MetricsRecord serialized + batched {json,9:0} rec/s"));
            }

            await using var broker = await ChunkPullBenchmark.Broker.StartAsync(work);
            Console.WriteLine($"broker: {broker.Description}");
            var drains = new List<(double Baseline, double Outbox, double Single, double Storage)>();
            for (var round = 1; round <= rounds; round++)
            {
                var (outbox, payloads) = await DrainAsync(broker.Url, Path.Combine(work, $"drain-{round}"), template);
                var baseline = await PublishAsync(broker.Url, payloads, DrainRecords);
                var single = await PublishAsync(broker.Url, [.. Enumerable.Range(0, 20_000).Select(i => Stamp(template, i + 1))], 20_000);
                var storage = ReadDelete(Path.Combine(work, $"read-delete-{round}.db"), template, DrainRecords / payloads.Count);
                drains.Add((baseline, outbox, single, storage));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  drain round {round}: MQTTnet QoS 1 same batches {baseline,9:0} rec/s | outbox publisher {outbox,9:0} rec/s ({outbox / baseline:0.00}x) | LiteDB read + delete alone, same batches {storage,9:0} rec/s ({outbox / storage:0.00}x) | MQTTnet QoS 1 one record per message {single,7:0} rec/s ({payloads.Count} batches of about {DrainRecords / payloads.Count} records)"));
            }

            var w = (Median(writes.Select(x => x.Baseline)), Median(writes.Select(x => x.Outbox)));
            var d = (Median(drains.Select(x => x.Baseline)), Median(drains.Select(x => x.Outbox)));
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"write (medians of {rounds} rounds; ratios are medians of the rounds' ratios): outbox batched {w.Item2:0} records/s (goal >= 100000: {(w.Item2 >= 100_000 ? "MET" : "NOT MET")}); LiteDB InsertBulk alone {w.Item1:0} records/s; ratio {Median(writes.Select(x => x.Outbox / x.Baseline)):0.00}x; single-record Enqueue {Median(writes.Select(x => x.Single)):0}/s; at a full budget {Median(writes.Select(x => x.Full)):0}/s; with MetricsRecord serialization {Median(writes.Select(x => x.Json)):0}/s"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"drain (medians of {rounds} rounds): outbox publisher {d.Item2:0} records/s to {(broker.Description.StartsWith("MOSQUITTO NOT", StringComparison.Ordinal) ? "the embedded broker" : "mosquitto")} at QoS 1; MQTTnet QoS 1 publish alone (same batches) {d.Item1:0} records/s, ratio {Median(drains.Select(x => x.Outbox / x.Baseline)):0.00}x; LiteDB read + delete alone (same batches) {Median(drains.Select(x => x.Storage)):0} records/s, ratio {Median(drains.Select(x => x.Outbox / x.Storage)):0.00}x; one record per message {Median(drains.Select(x => x.Single)):0} records/s"));
            Console.WriteLine($"load average after: {LoadAverage()}");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>A metrics record as the agent writes it, serialized without its leading <c>{"seq":N</c>.</summary>
    private static byte[] Template()
    {
        var window = new InferenceWindow("vibration", "1.0.0", DateTimeOffset.UtcNow);
        for (var i = 0; i < 500; i++)
        {
            window.RecordSuccess(150 + (i % 50));
        }

        window.RecordOutput(["probabilities", "label"], 0, 4500, 1500, 0.000002, 0.995446);
        window.RecordOutput(["probabilities", "label"], 1, 1500, 1500, 0, 2);
        var json = JsonSerializer.SerializeToUtf8Bytes(window.Close(1, "bench-device-01", DateTimeOffset.UtcNow), CoreJson.Options);
        return json["{\"seq\":1".Length..];
    }

    /// <summary><c>{"seq":N</c> and the template's rest.</summary>
    private static byte[] Stamp(byte[] template, long seq)
    {
        Span<byte> head = stackalloc byte[32];
        "{\"seq\":"u8.CopyTo(head);
        Utf8Formatter.TryFormat(seq, head[7..], out var digits);
        var record = new byte[7 + digits + template.Length];
        head[..(7 + digits)].CopyTo(record);
        template.CopyTo(record.AsSpan(7 + digits));
        return record;
    }

    private static double InsertBulk(string path, byte[] template)
    {
        using var db = new LiteDatabase(new ConnectionString { Filename = path, Connection = ConnectionType.Direct });
        var collection = db.GetCollection("q_metrics");
        var now = DateTime.UtcNow;
        var t0 = Stopwatch.GetTimestamp();
        for (var start = 0; start < WriteRecords; start += Batch)
        {
            var docs = new List<BsonDocument>(Batch);
            for (var i = start; i < start + Batch; i++)
            {
                var payload = Stamp(template, i + 1);
                docs.Add(new BsonDocument { ["_id"] = (long)i + 1, ["t"] = "metrics", ["n"] = payload.Length + 64, ["at"] = now, ["p"] = payload });
            }

            collection.InsertBulk(docs, Batch);
        }

        return WriteRecords / Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    private static Outbox Open(string directory, long maxBytes) => new(
        Options.Create(new AgentOptions { DeviceId = "bench", StateDirectory = directory }),
        Options.Create(new TelemetryOptions { OutboxMaxBytes = maxBytes, OutboxMaxRecords = int.MaxValue }),
        NullLogger<Outbox>.Instance,
        TimeProvider.System);

    private static double Enqueue(string directory, byte[] template, int batch, int records, long maxBytes)
    {
        using var outbox = Open(directory, maxBytes);
        var t0 = Stopwatch.GetTimestamp();
        for (var written = 0; written < records; written += batch)
        {
            outbox.EnqueueUtf8(OutboxClass.Metrics, "metrics", batch, (seq, _) => Stamp(template, seq));
        }

        return records / Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    /// <summary>Batched writes into an outbox already at its 16 MiB budget: every batch drops as many old records.</summary>
    private static double EnqueueOverBudget(string directory, byte[] template)
    {
        using var outbox = Open(directory, 16L * 1024 * 1024);
        var fill = (int)(16L * 1024 * 1024 / (template.Length + 70)) + Batch;
        for (var written = 0; written < fill; written += Batch)
        {
            outbox.EnqueueUtf8(OutboxClass.Metrics, "metrics", Batch, (seq, _) => Stamp(template, seq));
        }

        var t0 = Stopwatch.GetTimestamp();
        for (var written = 0; written < 50_000; written += Batch)
        {
            outbox.EnqueueUtf8(OutboxClass.Metrics, "metrics", Batch, (seq, _) => Stamp(template, seq));
        }

        var rate = 50_000 / Stopwatch.GetElapsedTime(t0).TotalSeconds;
        if (outbox.Status().Dropped.Metrics < 50_000)
        {
            throw new InvalidOperationException("the outbox was not at its budget");
        }

        return rate;
    }

    /// <summary>What the metrics service does: a MetricsRecord serialized per record inside the batch's transaction.</summary>
    private static double EnqueueMetrics(string directory)
    {
        using var outbox = Open(directory, 1L << 40);
        var windows = new InferenceWindow[Batch];
        for (var i = 0; i < Batch; i++)
        {
            windows[i] = new InferenceWindow("vibration", "1.0.0", DateTimeOffset.UtcNow);
            windows[i].RecordSuccess(150);
            windows[i].RecordOutput(["probabilities", "label"], 0, 9, 3, 0, 1);
        }

        var end = DateTimeOffset.UtcNow;
        var t0 = Stopwatch.GetTimestamp();
        for (var written = 0; written < 50_000; written += Batch)
        {
            outbox.EnqueueMany(OutboxClass.Metrics, "metrics", windows, (seq, w) => w.Close(seq, "bench-device-01", end));
        }

        return 50_000 / Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    /// <summary>The storage half of a drain alone: LiteDB reads the oldest batch by <c>_id</c> and deletes it in one transaction, batch after batch.</summary>
    private static double ReadDelete(string path, byte[] template, int perBatch)
    {
        using var db = new LiteDatabase(new ConnectionString { Filename = path, Connection = ConnectionType.Direct });
        var collection = db.GetCollection("q_metrics");
        var now = DateTime.UtcNow;
        for (var start = 0; start < DrainRecords; start += Batch)
        {
            collection.InsertBulk(Enumerable.Range(start, Batch).Select(i => new BsonDocument { ["_id"] = (long)i + 1, ["t"] = "metrics", ["n"] = template.Length + 70, ["at"] = now, ["p"] = Stamp(template, i + 1) }), Batch);
        }

        var t0 = Stopwatch.GetTimestamp();
        while (collection.Query().OrderBy("_id").Limit(perBatch).ToList() is { Count: > 0 } batch)
        {
            db.BeginTrans();
            foreach (var doc in batch)
            {
                collection.Delete(doc["_id"]);
            }

            db.Commit();
        }

        return DrainRecords / Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    /// <summary>Fills an outbox (not timed), then times the agent's publisher draining it; returns the batch payloads it would send.</summary>
    private static async Task<(double Rate, List<byte[]> Payloads)> DrainAsync(string url, string directory, byte[] template)
    {
        Directory.CreateDirectory(directory);
        using var outbox = Open(directory, 1L << 40);
        for (var written = 0; written < DrainRecords; written += Batch)
        {
            outbox.EnqueueUtf8(OutboxClass.Metrics, "metrics", Batch, (seq, _) => Stamp(template, seq));
        }

        // The same batches, for the baseline.
        var telemetry = new TelemetryOptions();
        var payloads = new List<byte[]>();
        while (outbox.Take(OutboxPublisher.MaxBatchRecords, telemetry.OutboxBatchMaxBytes) is { Count: > 0 } batch)
        {
            payloads.Add(OutboxPublisher.Payload(batch));
        }

        outbox.Rewind();

        var agent = Options.Create(new AgentOptions { DeviceId = "bench-outbox", StateDirectory = directory });
        var session = new MqttSession(agent, Options.Create(new MqttOptions { Url = url }), new SessionSequence(agent), NullLogger<MqttSession>.Instance, TimeProvider.System);
        try
        {
            await session.StartAsync(CancellationToken.None);
            await session.WhenConnectedAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
            using var publisher = new OutboxPublisher(outbox, session, Options.Create(telemetry), NullLogger<OutboxPublisher>.Instance);
            var t0 = Stopwatch.GetTimestamp();
            await publisher.DrainAsync(CancellationToken.None);
            var seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            if (outbox.Depth != 0)
            {
                throw new InvalidOperationException($"the publisher stopped with {outbox.Depth} records left");
            }

            return (DrainRecords / seconds, payloads);
        }
        finally
        {
            await session.StopAsync(CancellationToken.None);
            session.Dispose();
        }
    }

    /// <summary>A plain MQTTnet 5 client (BufferSize 65536, no delay) publishing <paramref name="payloads"/> with QoS 1, <see cref="InFlight"/> awaiting PUBACK.</summary>
    private static async Task<double> PublishAsync(string url, IReadOnlyList<byte[]> payloads, int records)
    {
        var broker = BrokerAddress.Parse(url);
        using var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(broker.Host, broker.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId("bench-raw-" + Guid.NewGuid().ToString("N"))
            .WithCleanStart(true)
            .Build();
        var tcp = (MqttClientTcpOptions)options.ChannelOptions;
        tcp.BufferSize = 65536;
        tcp.NoDelay = true;
        await client.ConnectAsync(options);
        var topic = new Topics(Topics.DefaultPrefix).Device("bench-raw", "metrics");
        var pending = new Queue<Task<MqttClientPublishResult>>();
        var t0 = Stopwatch.GetTimestamp();
        foreach (var payload in payloads)
        {
            if (pending.Count == InFlight)
            {
                Check(await pending.Dequeue());
            }

            var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithContentType("application/json").Build();
            pending.Enqueue(client.PublishAsync(message));
        }

        while (pending.Count > 0)
        {
            Check(await pending.Dequeue());
        }

        var seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        await client.DisconnectAsync();
        return records / seconds;
    }

    private static void Check(MqttClientPublishResult result)
    {
        if (result.ReasonCode is not (MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers))
        {
            throw new InvalidOperationException($"publish refused: {result.ReasonCode}");
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }
}
