using System.Text;
using System.Text.Json;
using EdgeAgent.Agent.Options;
using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Core.Telemetry;
using LiteDB;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeAgent.Agent.Tests;

/// <summary>The LiteDB outbox on a real file: one device-wide sequence, order, byte budget with priority classes, restarts, file size.</summary>
public sealed class OutboxTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("edgeagent-outbox-").FullName;

    private Outbox Open(long maxBytes = 16L * 1024 * 1024, int maxRecords = 100_000) => new(
        Microsoft.Extensions.Options.Options.Create(new AgentOptions { DeviceId = "d", StateDirectory = _work }),
        Microsoft.Extensions.Options.Options.Create(new TelemetryOptions { OutboxMaxBytes = maxBytes, OutboxMaxRecords = maxRecords }),
        NullLogger<Outbox>.Instance,
        TimeProvider.System);

    /// <summary>A record of exactly <paramref name="size"/> bytes of JSON (at least ~30).</summary>
    private static byte[] Record(long seq, int size = 100)
    {
        var head = $"{{\"seq\":{seq},\"pad\":\"";
        return Encoding.UTF8.GetBytes(head + new string('x', Math.Max(size - head.Length - 2, 0)) + "\"}");
    }

    private static long Enqueue(Outbox outbox, OutboxClass priority, string topic = "metrics", int size = 100) =>
        outbox.EnqueueUtf8(priority, topic, 1, (seq, _) => Record(seq, size));

    private static long SeqOf(OutboxRecord record) => JsonDocument.Parse(record.Payload).RootElement.GetProperty("seq").GetInt64();

    [Fact]
    public void Records_leave_in_seq_order_only_when_acknowledged_and_what_was_taken_but_not_acknowledged_comes_again()
    {
        using var outbox = Open();
        for (var i = 0; i < 50; i++)
        {
            Enqueue(outbox, OutboxClass.Metrics);
        }

        var first = outbox.Take(20, 1 << 20);
        var second = outbox.Take(20, 1 << 20);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), first.Select(r => r.Seq));
        Assert.Equal(Enumerable.Range(21, 20).Select(i => (long)i), second.Select(r => r.Seq));
        Assert.All(first, r => Assert.Equal(r.Seq, SeqOf(r)));

        outbox.Acknowledge(second);
        outbox.Rewind();

        Assert.Equal(30, outbox.Depth);
        Assert.Equal(20, outbox.Status().Delivered);
        Assert.Equal([.. Enumerable.Range(1, 20).Select(i => (long)i), .. Enumerable.Range(41, 10).Select(i => (long)i)], outbox.Take(100, 1 << 20).Select(r => r.Seq));
    }

    [Fact]
    public void Draining_record_after_record_compiles_no_new_code()
    {
        // The 1-hour soak's RSS growth (issue 9): each drain read "after seq N" through an expression whose text held N,
        // and LiteDB compiled and kept one per distinct text. Now the drain reuses one compiled expression, so a
        // steady enqueue/drain cycle JITs nothing new (counted on this thread; other tests compile on theirs).
        using var outbox = Open();
        void Cycle()
        {
            Enqueue(outbox, OutboxClass.Metrics);
            var batch = outbox.Take(10, 1 << 20);
            Assert.Single(batch);
            outbox.Acknowledge(batch);
        }

        for (var i = 0; i < 20; i++)
        {
            Cycle();
        }

        var before = System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: true);
        for (var i = 0; i < 200; i++)
        {
            Cycle();
        }

        var compiled = System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: true) - before;
        Assert.True(compiled < 20, $"{compiled} methods compiled during 200 enqueue/drain cycles");
    }

    [Fact]
    public void One_sequence_runs_across_classes_and_topics_and_continues_after_a_restart_even_when_everything_was_delivered()
    {
        using (var outbox = Open())
        {
            Assert.Equal(1, outbox.Enqueue(OutboxClass.Metrics, "metrics", seq => new { seq, n = 1 }));
            Assert.Equal(2, outbox.Enqueue(OutboxClass.Event, "events", seq => new { seq, type = "deployment" }));
            Assert.Equal(3, outbox.EnqueueMany(OutboxClass.Drift, "drift", ["a", "b"], (seq, name) => new { seq, name }));
            Assert.Equal(5, outbox.Enqueue(OutboxClass.Alert, "drift", seq => new { seq, kind = "alert" }));

            var all = outbox.Take(100, 1 << 20);
            Assert.Equal(["metrics"], all.Select(r => r.Topic));
            outbox.Acknowledge(all);
            while (outbox.Take(100, 1 << 20) is { Count: > 0 } batch)
            {
                outbox.Acknowledge(batch);
            }

            Assert.Equal(0, outbox.Depth);
        }

        using var reopened = Open();
        Assert.Equal(6, reopened.Enqueue(OutboxClass.Metrics, "metrics", seq => new { seq }));
        Assert.Equal(5, reopened.Status().Delivered);
        Assert.Equal(6, reopened.LastSeq);
    }

    [Fact]
    public void A_batch_holds_consecutive_records_of_one_topic_within_the_byte_limit_and_is_published_as_records()
    {
        using var outbox = Open();
        for (var i = 0; i < 5; i++)
        {
            Enqueue(outbox, OutboxClass.Metrics, size: 100);
        }

        Enqueue(outbox, OutboxClass.Event, "events");
        Enqueue(outbox, OutboxClass.Metrics);

        var batch = outbox.Take(100, 250);
        Assert.Equal([1L, 2L], batch.Select(r => r.Seq));
        outbox.Acknowledge(batch);
        Assert.Equal([3L, 4L, 5L], outbox.Take(100, 1 << 20).Select(r => r.Seq));
        var events = outbox.Take(100, 1 << 20);
        Assert.Equal([(6L, "events")], events.Select(r => (r.Seq, r.Topic)));
        Assert.Equal([7L], outbox.Take(100, 1 << 20).Select(r => r.Seq));

        // On the wire: several records as {"records":[...]}, each with its seq; a lone record as itself.
        using var many = JsonDocument.Parse(OutboxPublisher.Payload(batch));
        Assert.Equal([1L, 2L], OutboxPayload.Records(many.RootElement).Select(OutboxPayload.Seq));
        using var one = JsonDocument.Parse(OutboxPublisher.Payload(events));
        Assert.Equal(6, one.RootElement.GetProperty("seq").GetInt64());
        Assert.Equal([6L], OutboxPayload.Records(one.RootElement).Select(OutboxPayload.Seq));
    }

    [Fact]
    public void Over_the_byte_budget_the_oldest_records_of_the_lowest_class_are_dropped_first_and_every_drop_is_counted_and_kept()
    {
        // Each record counts 100 + 64 bytes: the budget holds 10.
        var budget = 10 * (100 + Outbox.RecordOverheadBytes);
        using (var outbox = Open(maxBytes: budget))
        {
            var alert = Enqueue(outbox, OutboxClass.Alert, "events");
            var events = Enumerable.Range(0, 3).Select(_ => Enqueue(outbox, OutboxClass.Event, "events")).ToList();
            var drift = Enumerable.Range(0, 2).Select(_ => Enqueue(outbox, OutboxClass.Drift, "drift")).ToList();
            var metrics = Enumerable.Range(0, 10).Select(_ => Enqueue(outbox, OutboxClass.Metrics)).ToList();

            // 16 records for room of 10: the 6 oldest metrics went; everything of a higher class stayed.
            var status = outbox.Status();
            Assert.Equal(10, status.Depth);
            Assert.Equal(budget, status.Bytes);
            Assert.Equal(new OutboxDrops(0, 0, 0, 6), status.Dropped);
            var held = Take(outbox);
            Assert.DoesNotContain(metrics[5], held);
            Assert.Contains(metrics[6], held);

            // Six more events: the remaining 4 metrics go, then the 2 drift reports; alerts and events stay.
            for (var i = 0; i < 6; i++)
            {
                Enqueue(outbox, OutboxClass.Event, "events");
            }

            Assert.Equal(new OutboxDrops(0, 0, 2, 10), outbox.Status().Dropped);
            var left = Take(outbox);
            Assert.Contains(alert, left);
            Assert.All(events, e => Assert.Contains(e, left));
            Assert.All(drift.Concat(metrics), d => Assert.DoesNotContain(d, left));
        }

        // The counters are in the file.
        using var reopened = Open(maxBytes: budget);
        Assert.Equal(new OutboxDrops(0, 0, 2, 10), reopened.Status().Dropped);
        Assert.Equal(10, reopened.Depth);
    }

    private static List<long> Take(Outbox outbox)
    {
        var seqs = new List<long>();
        while (outbox.Take(100, 1 << 20) is { Count: > 0 } batch)
        {
            seqs.AddRange(batch.Select(r => r.Seq));
        }

        outbox.Rewind();
        return seqs;
    }

    [Fact]
    public void Records_the_publisher_has_in_flight_are_not_dropped_so_a_drop_count_never_covers_a_record_that_arrives()
    {
        var budget = 10 * (100 + Outbox.RecordOverheadBytes);
        using var outbox = Open(maxBytes: budget);
        for (var i = 0; i < 10; i++)
        {
            Enqueue(outbox, OutboxClass.Metrics);
        }

        var inFlight = outbox.Take(3, 1 << 20);
        Enqueue(outbox, OutboxClass.Metrics);
        Enqueue(outbox, OutboxClass.Metrics);

        outbox.Acknowledge(inFlight);
        outbox.Rewind();
        Assert.Equal([1L, 2L, 3L], inFlight.Select(r => r.Seq));
        Assert.Equal([6L, 7L, 8L, 9L, 10L, 11L, 12L], Take(outbox));
        Assert.Equal(2, outbox.Status().Dropped.Metrics);
    }

    [Fact]
    public void A_record_larger_than_the_whole_budget_is_dropped_at_once_and_counted_and_its_seq_is_not_reused()
    {
        using var outbox = Open(maxBytes: 4096);
        Enqueue(outbox, OutboxClass.Metrics);
        var big = Enqueue(outbox, OutboxClass.Event, "events", size: 5000);
        var next = Enqueue(outbox, OutboxClass.Metrics);

        Assert.Equal(2, big);
        Assert.Equal(3, next);
        Assert.Equal(new OutboxDrops(0, 1, 0, 0), outbox.Status().Dropped);
        Assert.Equal([1L, 3L], Take(outbox));
    }

    [Fact]
    public void The_record_count_bound_still_applies_beside_the_byte_budget()
    {
        using var outbox = Open(maxRecords: 100);
        for (var i = 0; i < 130; i++)
        {
            Enqueue(outbox, OutboxClass.Metrics);
        }

        Assert.Equal(100, outbox.Depth);
        Assert.Equal(30, outbox.Status().Dropped.Metrics);
        Assert.Equal(31, outbox.Take(1, 1 << 20)[0].Seq);
    }

    [Fact]
    public void The_file_stops_growing_when_records_are_written_and_drained_for_a_long_time()
    {
        // 30 rounds of 4000 records of 300 bytes (1.4 MB each, so each round also overflows the 1 MiB budget),
        // every round drained in batches as the publisher does. LiteDB reuses the pages freed by deletes.
        const int Rounds = 30;
        var files = new List<long>();
        var totals = new List<long>();
        using (var outbox = Open(maxBytes: 1024 * 1024))
        {
            for (var round = 0; round < Rounds; round++)
            {
                outbox.EnqueueUtf8(OutboxClass.Metrics, "metrics", 4000, (seq, _) => Record(seq, 300));
                while (outbox.Take(OutboxPublisher.MaxBatchRecords, 64 * 1024) is { Count: > 0 } batch)
                {
                    outbox.Acknowledge(batch);
                }

                outbox.Rewind();

                // The data file, and with it LiteDB's write-ahead log (outbox-log.db), which it checkpoints into the file
                // every 1000 pages (8 MB) and then truncates.
                var log = Path.Combine(_work, "outbox-log.db");
                files.Add(new FileInfo(outbox.Path).Length);
                totals.Add(files[^1] + (File.Exists(log) ? new FileInfo(log).Length : 0));
            }

            Assert.Equal(0, outbox.Depth);
            Assert.True(outbox.Status().Dropped.Metrics > 0, "the budget overflowed in every round");
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"outbox.db after rounds 1, 5, 10, 20, 30: {files[0]}, {files[4]}, {files[9]}, {files[19]}, {files[^1]} bytes; with outbox-log.db: {string.Join(", ", totals)}");
        Assert.True(files[^1] <= files[9], $"outbox.db grew after round 10: {string.Join(", ", files)}");
        // The log is bounded by LiteDB's checkpoint size (1000 pages of 8 KiB) plus the transaction that crossed it.
        Assert.True(totals.Max() <= files[^1] + (10 * 1024 * 1024), $"outbox.db with its log: {string.Join(", ", totals)}");
        Assert.True(files[^1] < 4 * 1024 * 1024, $"outbox.db is {files[^1]} bytes for a 1 MiB budget");
    }

    [Fact]
    public void An_outbox_of_the_old_format_is_moved_to_the_device_wide_sequence_after_the_highest_seq_it_handed_out()
    {
        // The layout an agent before issue 6 wrote: one collection, one sequence per kind, a single drop counter.
        using (var db = new LiteDatabase(new ConnectionString { Filename = Path.Combine(_work, "outbox.db"), Connection = ConnectionType.Direct }))
        {
            var meta = db.GetCollection("meta");
            meta.Insert(new BsonDocument { ["_id"] = "seq:metrics", ["value"] = 40L });
            meta.Insert(new BsonDocument { ["_id"] = "seq:events", ["value"] = 7L });
            meta.Insert(new BsonDocument { ["_id"] = "id", ["value"] = 47L });
            meta.Insert(new BsonDocument { ["_id"] = "dropped", ["value"] = 3L });
            var old = db.GetCollection("outbox");
            old.Insert(new BsonDocument { ["_id"] = 46L, ["Kind"] = "metrics", ["Seq"] = 40L, ["Payload"] = "{\"seq\":40,\"count\":5}", ["Created"] = DateTime.UtcNow });
            old.Insert(new BsonDocument { ["_id"] = 47L, ["Kind"] = "events", ["Seq"] = 7L, ["Payload"] = "{\"seq\":7,\"type\":\"deployment\"}", ["Created"] = DateTime.UtcNow });
        }

        using var outbox = Open();
        var records = outbox.Take(100, 1 << 20).Concat(outbox.Take(100, 1 << 20)).ToList();

        Assert.Equal([(41L, "metrics"), (42L, "events")], records.Select(r => (r.Seq, r.Topic)));
        Assert.All(records, r => Assert.Equal(r.Seq, SeqOf(r)));
        Assert.Equal(5, JsonDocument.Parse(records[0].Payload).RootElement.GetProperty("count").GetInt32());
        Assert.Equal(3, outbox.Status().Dropped.Metrics);
        Assert.Equal(43, Enqueue(outbox, OutboxClass.Metrics));
    }

    [Fact]
    public void A_damaged_outbox_file_is_moved_aside_and_a_fresh_one_started()
    {
        File.WriteAllBytes(Path.Combine(_work, "outbox.db"), [.. Enumerable.Range(0, 16384).Select(i => (byte)(i * 7919 % 251))]);

        using var outbox = Open();
        Enqueue(outbox, OutboxClass.Metrics);

        Assert.Equal(1, outbox.Depth);
        Assert.Single(Directory.GetFiles(_work, "outbox.db.corrupt-*"));
    }

    [Fact]
    public void The_seq_ledger_de_duplicates_and_finds_gaps_in_records_that_arrive_out_of_order()
    {
        var ledger = new SeqLedger();
        foreach (var seq in new long[] { 1, 2, 5, 3, 2, 9, 5, 4, 10 })
        {
            ledger.Add(seq);
        }

        Assert.Equal(7, ledger.Distinct);
        Assert.Equal(2, ledger.Duplicates);
        Assert.Equal(10, ledger.Highest);
        Assert.Equal([(6L, 8L)], ledger.Gaps());
        Assert.True(ledger.Add(7));
        Assert.Equal([(6L, 6L), (8L, 8L)], ledger.Gaps());
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
