using EdgeAgent.Core.Drift;

namespace EdgeAgent.Core.Tests.Drift;

public sealed class DriftHistogramTests
{
    [Fact]
    public void A_value_on_an_edge_falls_in_the_bin_below_it()
    {
        var histogram = DriftHistogram.WithEdges([1.0, 2.0, 3.0]);

        Assert.Equal(0, histogram.BinOf(double.NegativeInfinity));
        Assert.Equal(0, histogram.BinOf(1.0));
        Assert.Equal(1, histogram.BinOf(1.0000001));
        Assert.Equal(1, histogram.BinOf(2.0));
        Assert.Equal(3, histogram.BinOf(3.5));
        Assert.Equal(3, histogram.BinOf(double.PositiveInfinity));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(99)]
    [InlineData(999)]
    public void Any_number_of_edges_bins_like_counting_the_edges_below(int edges)
    {
        double[] keys = [.. Enumerable.Range(0, edges).Select(i => i * 0.5)];
        var histogram = DriftHistogram.WithEdges(keys);
        var random = new Random(edges);

        for (var i = 0; i < 5000; i++)
        {
            // Every edge exactly, and values between and beyond them.
            var v = i % 2 == 0 ? keys[random.Next(edges)] : (random.NextDouble() * (edges + 2) * 0.5) - 0.5;
            Assert.Equal(keys.Count(k => k < v), histogram.BinOf(v));
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(40)]
    public void Classes_are_found_by_exact_value_among_any_number(int classes)
    {
        var histogram = DriftHistogram.WithClasses([.. Enumerable.Range(0, classes).Select(i => (long)i * 3)]);

        for (var i = 0; i < classes; i++)
        {
            Assert.Equal(i, histogram.BinOf(i * 3));
            Assert.Equal(classes, histogram.BinOf((i * 3) + 1));
        }

        Assert.Equal(classes, histogram.BinOf(-3));
        Assert.Equal(classes, histogram.BinOf(classes * 3));
    }

    [Fact]
    public void NaN_is_counted_apart_and_not_binned()
    {
        var histogram = DriftHistogram.WithEdges([0.0]);
        histogram.Add(double.NaN);
        histogram.Add(-1);
        histogram.Add(double.NaN);

        var counts = new long[2];
        var binned = histogram.TakeCounts(counts, out var nan);

        Assert.Equal(1, binned);
        Assert.Equal(2, nan);
        Assert.Equal([1L, 0L], counts);
    }

    [Fact]
    public void A_class_the_baseline_never_saw_goes_to_the_other_bin()
    {
        var histogram = new DriftHistogram(new DriftDistribution
        {
            Name = "label",
            Output = "label",
            Statistic = DriftStatistic.Class,
            Classes = [0, 1, 2],
            Proportions = [0.5, 0.3, 0.2],
        });
        foreach (var v in new double[] { 0, 1, 2, 2, 7, -1, 1.5 })
        {
            histogram.Add(v);
        }

        var counts = new long[histogram.BinCount];
        histogram.CopyCounts(counts);

        Assert.Equal([1L, 1, 2, 3], counts);
        Assert.Equal([0.5, 0.3, 0.2, 0.0], histogram.BaselineProportions.ToArray());
    }

    [Fact]
    public void Taking_the_counts_starts_the_next_window_from_zero()
    {
        var histogram = DriftHistogram.WithEdges([0.5]);
        histogram.Add(0);
        histogram.Add(1);
        var counts = new long[2];

        histogram.TakeCounts(counts, out _);
        histogram.Add(1);
        histogram.TakeCounts(counts, out _);

        Assert.Equal([0L, 1L], counts);
    }

    [Fact]
    public async Task Adds_from_many_threads_during_window_swaps_are_neither_lost_nor_counted_twice()
    {
        var histogram = DriftHistogram.WithEdges([-1.0, 0.0, 1.0]);
        const int Threads = 4;
        const int PerThread = 200_000;
        long taken = 0;
        var done = 0;
        var counts = new long[histogram.BinCount];
        var swapper = Task.Run(() =>
        {
            while (Volatile.Read(ref done) < Threads)
            {
                taken += histogram.TakeCounts(counts, out _);
            }
        }, TestContext.Current.CancellationToken);

        Parallel.For(0, Threads, t =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                histogram.Add((i % 7) - 3.0);
            }

            Interlocked.Increment(ref done);
        });
        await swapper;
        taken += histogram.TakeCounts(counts, out _);

        Assert.Equal(Threads * PerThread, taken);
    }

    [Fact]
    public void Add_allocates_nothing()
    {
        var histogram = DriftHistogram.WithEdges([.. Enumerable.Range(1, 9).Select(i => i / 10.0)]);
        histogram.Add(0.5);
        var before = GC.GetAllocatedBytesForCurrentThread();

        for (var i = 0; i < 10_000; i++)
        {
            histogram.Add(i / 10_000.0);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void Edges_out_of_order_are_refused()
    {
        Assert.Throws<ArgumentException>(() => DriftHistogram.WithEdges([1.0, 1.0]));
        Assert.Throws<ArgumentException>(() => DriftHistogram.WithEdges([double.NaN]));
    }
}
