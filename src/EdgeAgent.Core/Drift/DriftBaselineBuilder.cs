namespace EdgeAgent.Core.Drift;

/// <summary>
/// Computes baseline distributions from sample values (docs/drift.md#baseline). Numeric: inner edges at the quantiles
/// 1/bins … (bins−1)/bins (numpy's default "linear" method), equal edges merged, a constant feature one bin. Categorical:
/// one class per distinct value. Proportions come from the same <see cref="DriftHistogram"/> binning a device uses.
/// NaN values are left out.
/// </summary>
public static class DriftBaselineBuilder
{
    /// <summary>The baseline of <paramref name="spec"/>: categorical for <see cref="DriftStatistic.Class"/>, quantile bins otherwise.</summary>
    /// <exception cref="ArgumentException">No value that is not NaN, or more classes than <see cref="DriftBaseline.MaxClasses"/>.</exception>
    public static DriftDistribution Build(DriftFeatureSpec spec, ReadOnlySpan<double> values, int bins = DriftBaseline.DefaultBins)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Statistic == DriftStatistic.Class)
        {
            var classes = Classes(values, spec.Name);
            return DriftDistribution.For(spec, null, classes, Proportions(DriftHistogram.WithClasses([.. classes]), values, dropOther: true));
        }

        var edges = QuantileEdges(values, bins, spec.Name);
        return DriftDistribution.For(spec, edges, null, Proportions(DriftHistogram.WithEdges(edges), values, dropOther: false));
    }

    /// <summary>
    /// Ascending distinct inner edges: the quantiles i/bins (i = 1 … bins−1) of the values that are not NaN, equal ones
    /// merged (and infinite ones left out, as the outer bins are open anyway); none when every value is the same (one bin).
    /// </summary>
    public static double[] QuantileEdges(ReadOnlySpan<double> values, int bins, string? what = null)
    {
        if (bins is < 2 or > DriftBaseline.MaxBins)
        {
            throw new ArgumentOutOfRangeException(nameof(bins), bins, $"bins must be 2..{DriftBaseline.MaxBins}");
        }

        var sorted = SortedWithoutNaN(values, what);
        if (sorted[0] == sorted[^1])
        {
            return [];
        }

        var edges = new List<double>(bins - 1);
        for (var i = 1; i < bins; i++)
        {
            var edge = Quantile(sorted, i / (double)bins);
            if (double.IsFinite(edge) && (edges.Count == 0 || edge > edges[^1]))
            {
                edges.Add(edge);
            }
        }

        return [.. edges];
    }

    /// <summary>
    /// The q-quantile of ascending <paramref name="sorted"/> values, as numpy.quantile's default ("linear", Hyndman-Fan
    /// type 7) computes it, including its interpolation from the upper neighbour when the fraction is ≥ ½.
    /// </summary>
    public static double Quantile(ReadOnlySpan<double> sorted, double q)
    {
        if (sorted.IsEmpty)
        {
            throw new ArgumentException("no values", nameof(sorted));
        }

        var h = (sorted.Length - 1) * q;
        var lo = Math.Floor(h);
        var gamma = h - lo;
        var below = (int)lo;
        var above = Math.Min(below + 1, sorted.Length - 1);
        var a = sorted[below];
        var b = sorted[above];
        var diff = b - a;
        return gamma >= 0.5 ? b - (diff * (1 - gamma)) : a + (diff * gamma);
    }

    /// <summary>The distinct values, ascending, as classes (values are truncated to integers).</summary>
    public static long[] Classes(ReadOnlySpan<double> values, string? what = null)
    {
        var set = new SortedSet<long>();
        foreach (var v in values)
        {
            if (double.IsNaN(v))
            {
                continue;
            }

            set.Add((long)v);
            if (set.Count > DriftBaseline.MaxClasses)
            {
                throw new ArgumentException($"{what ?? "the values"} take more than {DriftBaseline.MaxClasses} distinct values: too many classes to monitor");
            }
        }

        return set.Count == 0 ? throw new ArgumentException($"{what ?? "the values"}: no value to build a baseline from (all NaN or none)") : [.. set];
    }

    private static double[] SortedWithoutNaN(ReadOnlySpan<double> values, string? what)
    {
        var sorted = new List<double>(values.Length);
        foreach (var v in values)
        {
            if (!double.IsNaN(v))
            {
                sorted.Add(v);
            }
        }

        if (sorted.Count == 0)
        {
            throw new ArgumentException($"{what ?? "the values"}: no value to build a baseline from (all NaN or none)");
        }

        sorted.Sort();
        return [.. sorted];
    }

    private static double[] Proportions(DriftHistogram histogram, ReadOnlySpan<double> values, bool dropOther)
    {
        foreach (var v in values)
        {
            histogram.Add(v);
        }

        var counts = new long[histogram.BinCount];
        var total = histogram.CopyCounts(counts);
        var proportions = new double[dropOther ? counts.Length - 1 : counts.Length];
        for (var i = 0; i < proportions.Length; i++)
        {
            proportions[i] = counts[i] / (double)total;
        }

        return proportions;
    }
}
