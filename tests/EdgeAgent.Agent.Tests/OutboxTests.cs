using EdgeAgent.Agent.Options;
using EdgeAgent.Agent.Telemetry;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeAgent.Agent.Tests;

/// <summary>The LiteDB outbox on a real file: order, sequences, bounds and restarts.</summary>
public sealed class OutboxTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("edgeagent-outbox-").FullName;

    private Outbox Open(int maxRecords = 1000) => new(
        Microsoft.Extensions.Options.Options.Create(new AgentOptions { DeviceId = "d", StateDirectory = _work }),
        Microsoft.Extensions.Options.Options.Create(new TelemetryOptions { OutboxMaxRecords = maxRecords }),
        NullLogger<Outbox>.Instance,
        TimeProvider.System);

    [Fact]
    public void Records_leave_in_order_only_when_acknowledged_and_new_ones_keep_queueing_after_a_drain()
    {
        using var outbox = Open();
        for (var i = 0; i < 50; i++)
        {
            outbox.Enqueue("metrics", seq => $"{{\"seq\":{seq}}}");
        }

        foreach (var record in outbox.Peek(100))
        {
            outbox.Acknowledge(record.Id);
        }

        for (var i = 0; i < 50; i++)
        {
            outbox.Enqueue("metrics", seq => $"{{\"seq\":{seq}}}");
        }

        var pending = outbox.Peek(100);
        Assert.Equal(50, pending.Count);
        Assert.Equal(Enumerable.Range(51, 50).Select(i => (long)i), pending.Select(r => r.Seq));
        Assert.Equal(50, outbox.Delivered);
    }

    [Fact]
    public void Sequences_continue_across_a_restart_and_each_kind_has_its_own()
    {
        using (var outbox = Open())
        {
            outbox.Enqueue("metrics", _ => "{}");
            outbox.Enqueue("metrics", _ => "{}");
            outbox.Enqueue("events", _ => "{}");
            outbox.Acknowledge(outbox.Peek(1)[0].Id);
        }

        using var reopened = Open();
        var seq = reopened.Enqueue("metrics", _ => "{}");

        Assert.Equal(3, seq);
        Assert.Equal(3, reopened.Depth);
        Assert.Equal(["metrics", "events", "metrics"], reopened.Peek(10).Select(r => r.Kind));
    }

    [Fact]
    public void A_full_outbox_drops_the_oldest_records_and_counts_the_drops()
    {
        using var outbox = Open(maxRecords: 100);

        for (var i = 0; i < 130; i++)
        {
            outbox.Enqueue("metrics", seq => $"{{\"seq\":{seq}}}");
        }

        Assert.Equal(100, outbox.Depth);
        Assert.Equal(30, outbox.Dropped);
        Assert.Equal(31, outbox.Peek(1)[0].Seq);
    }

    [Fact]
    public void A_damaged_outbox_file_is_moved_aside_and_a_fresh_one_started()
    {
        File.WriteAllBytes(Path.Combine(_work, "outbox.db"), [.. Enumerable.Range(0, 16384).Select(i => (byte)(i * 7919 % 251))]);

        using var outbox = Open();
        outbox.Enqueue("metrics", _ => "{}");

        Assert.Equal(1, outbox.Depth);
        Assert.Single(Directory.GetFiles(_work, "outbox.db.corrupt-*"));
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
