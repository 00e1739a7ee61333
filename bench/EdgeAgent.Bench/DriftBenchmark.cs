using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using EdgeAgent.Core.Drift;

namespace EdgeAgent.Bench;

/// <summary>
/// Drift accounting cost per value (issue 6: goal ≤ 20 ns and 0 B allocated per value). The candidate is
/// <see cref="DriftHistogram.Add"/> (NaN check, binary search over the edges, <c>Interlocked.Increment</c> of a padded
/// counter); the raw baseline is <c>Array.BinarySearch</c> over the same edges and a plain <c>counts[bin]++</c>, on the
/// same values. Blocks of baseline and candidate alternate for several rounds because the machine is shared; the
/// summary is the median per-round ratio. A last case has two threads adding to one histogram at once.
/// </summary>
internal static class DriftBenchmark
{
    private const int Values = 1 << 20;

    public static void Run(int rounds, int passes)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"drift benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {Values} values per pass, {passes} passes per block, {rounds} rounds interleaved"));
        var random = new Random(6);
        var values = new double[Values];
        for (var i = 0; i < values.Length; i++)
        {
            // Box-Muller: normal values, so the bins (deciles of the same distribution) fill evenly.
            values[i] = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        }

        foreach (var bins in new[] { 10, 100 })
        {
            var edges = DriftBaselineBuilder.QuantileEdges(values.AsSpan(0, 100_000), bins);
            var histogram = DriftHistogram.WithEdges(edges);
            var counts = new long[edges.Length + 1];
            var ratios = new List<double>();
            var candidates = new List<double>();
            long allocated = 0;
            for (var round = 0; round <= rounds; round++)
            {
                var raw = Time(passes, () => RawPass(edges, counts, values));
                var before = GC.GetAllocatedBytesForCurrentThread();
                var add = Time(passes, () => AddPass(histogram, values));
                var bytes = GC.GetAllocatedBytesForCurrentThread() - before;
                if (round == 0)
                {
                    continue; // warm-up (tiering, caches)
                }

                allocated += bytes;
                ratios.Add(add / raw);
                candidates.Add(add);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {bins,3} bins round {round}: raw {raw,6:0.00} ns/value, DriftHistogram.Add {add,6:0.00} ns/value, ratio {add / raw:0.00}x, {bytes} B allocated over {(long)passes * Values} adds"));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{bins,3} bins: Add median {Median(candidates):0.00} ns/value ({Median(ratios):0.00}x the raw BinarySearch + counts[bin]++), {allocated} B allocated in total; goal ≤ 20 ns, 0 B"));
        }

        var shared = DriftHistogram.WithEdges(DriftBaselineBuilder.QuantileEdges(values.AsSpan(0, 100_000), 10));
        var contended = new List<double>();
        for (var round = 0; round <= rounds; round++)
        {
            var t0 = Stopwatch.GetTimestamp();
            Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, _ =>
            {
                for (var p = 0; p < passes; p++)
                {
                    AddPass(shared, values);
                }
            });
            var ns = Stopwatch.GetElapsedTime(t0).TotalNanoseconds / ((double)passes * Values * 2);
            if (round > 0)
            {
                contended.Add(ns);
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $" 10 bins, 2 threads on one histogram: {Median(contended):0.00} ns per value (wall time / values added by both)"));
    }

    private static double Time(int passes, Action pass)
    {
        var t0 = Stopwatch.GetTimestamp();
        for (var p = 0; p < passes; p++)
        {
            pass();
        }

        return Stopwatch.GetElapsedTime(t0).TotalNanoseconds / ((double)passes * Values);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RawPass(double[] edges, long[] counts, double[] values)
    {
        foreach (var v in values)
        {
            var i = Array.BinarySearch(edges, v);
            counts[i >= 0 ? i : ~i]++;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddPass(DriftHistogram histogram, double[] values)
    {
        foreach (var v in values)
        {
            histogram.Add(v);
        }
    }

    private static double Median(List<double> xs)
    {
        var sorted = xs.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[sorted.Count / 2];
    }
}
