using EdgeAgent.Core.Telemetry;

namespace EdgeAgent.Core.Tests.Telemetry;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void Empty_histogram_reports_zero()
    {
        var histogram = new LatencyHistogram();

        Assert.Equal(0, histogram.Count);
        Assert.Equal(0, histogram.Quantile(0.5));
        Assert.Equal(0, histogram.Quantile(0.99));
        Assert.Equal(0, histogram.MeanMicros);
        Assert.Equal(0, histogram.MaxMicros);
    }

    [Fact]
    public void Quantiles_of_a_uniform_distribution_are_within_ten_percent()
    {
        var histogram = new LatencyHistogram();
        for (var us = 1; us <= 1000; us++)
        {
            histogram.Record(us);
        }

        Assert.Equal(1000, histogram.Count);
        Assert.InRange(histogram.Quantile(0.50), 450, 550);
        Assert.InRange(histogram.Quantile(0.95), 855, 1045);
        Assert.InRange(histogram.Quantile(0.99), 891, 1089);
        Assert.Equal(500.5, histogram.MeanMicros, 3);
        Assert.Equal(1000, histogram.MaxMicros);
    }

    [Fact]
    public void Quantile_never_exceeds_the_largest_value_seen()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(1000);

        Assert.Equal(1000, histogram.Quantile(0.5));
        Assert.Equal(1000, histogram.Quantile(1.0));
    }

    [Fact]
    public void Tail_latency_shows_in_p99_but_not_in_p50()
    {
        var histogram = new LatencyHistogram();
        for (var i = 0; i < 980; i++)
        {
            histogram.Record(100);
        }

        for (var i = 0; i < 20; i++)
        {
            histogram.Record(50_000);
        }

        Assert.InRange(histogram.Quantile(0.50), 90, 110);
        Assert.InRange(histogram.Quantile(0.99), 45_000, 55_000);
    }

    [Fact]
    public void Values_below_one_microsecond_count_as_one()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(0);
        histogram.Record(0.25);

        Assert.Equal(2, histogram.Count);
        Assert.Equal(1, histogram.Quantile(0.5));
        Assert.Equal(1, histogram.MaxMicros);
    }

    [Fact]
    public void Concurrent_records_from_several_threads_are_all_counted()
    {
        const int threads = 8;
        const int perThread = 20_000;
        var histogram = new LatencyHistogram();
        using var start = new Barrier(threads);

        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 1; i <= perThread; i++)
            {
                histogram.Record(i % 1000 + 1);
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => Assert.True(w.Join(TimeSpan.FromSeconds(10))));

        Assert.Equal(threads * perThread, histogram.Count);
        Assert.Equal(1000, histogram.MaxMicros);
        Assert.Equal(1000, histogram.Quantile(1.0));
    }
}
