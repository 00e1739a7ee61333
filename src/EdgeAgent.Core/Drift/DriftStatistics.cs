namespace EdgeAgent.Core.Drift;

/// <summary>
/// PSI, Jensen-Shannon distance and binned Kolmogorov-Smirnov of a window against its baseline, over the same bins
/// (docs/drift.md#statistics). The device and <c>edgectl drift compare</c> both use this.
/// </summary>
/// <remarks>
/// PSI and JS first add <see cref="Epsilon"/> to every bin of both sides and renormalise, so an empty bin on either side
/// gives a large but finite value. KS uses the proportions as they are.
/// </remarks>
public static class DriftStatistics
{
    /// <summary>Added to every bin's proportion on both sides before PSI and JS, which are then renormalised.</summary>
    public const double Epsilon = 1e-4;

    private const int StackBins = 256;

    /// <summary>The three statistics of a window's <paramref name="counts"/> (per bin) against <paramref name="baseline"/> proportions (per bin).</summary>
    /// <exception cref="ArgumentException">The lengths differ, or the window is empty.</exception>
    public static DriftScores Compare(ReadOnlySpan<double> baseline, ReadOnlySpan<long> counts)
    {
        if (baseline.Length != counts.Length || baseline.IsEmpty)
        {
            throw new ArgumentException($"{counts.Length} counts for {baseline.Length} baseline bins");
        }

        Span<double> current = counts.Length <= StackBins ? stackalloc double[StackBins] : new double[counts.Length];
        current = current[..counts.Length];
        Proportions(counts, current);
        return new DriftScores(Psi(baseline, current), JensenShannon(baseline, current), KolmogorovSmirnov(baseline, current));
    }

    /// <summary>The window's scores against the baseline of <paramref name="histogram"/>.</summary>
    public static DriftScores Compare(DriftHistogram histogram, ReadOnlySpan<long> counts)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        return Compare(histogram.BaselineProportions, counts);
    }

    /// <summary>Each bin's share of the total; throws for an empty window.</summary>
    public static void Proportions(ReadOnlySpan<long> counts, Span<double> destination)
    {
        long total = 0;
        foreach (var c in counts)
        {
            total += c;
        }

        if (total <= 0)
        {
            throw new ArgumentException("the window holds no values");
        }

        for (var i = 0; i < counts.Length; i++)
        {
            destination[i] = counts[i] / (double)total;
        }
    }

    /// <summary>Population stability index: Σ (cur − base) · ln(cur / base), after the epsilon smoothing.</summary>
    public static double Psi(ReadOnlySpan<double> baseline, ReadOnlySpan<double> current)
    {
        CheckLengths(baseline, current);
        var (sumBase, sumCur) = (Smoothed(baseline), Smoothed(current));
        var psi = 0.0;
        for (var i = 0; i < baseline.Length; i++)
        {
            var b = (baseline[i] + Epsilon) / sumBase;
            var c = (current[i] + Epsilon) / sumCur;
            psi += (c - b) * Math.Log(c / b);
        }

        return psi;
    }

    /// <summary>
    /// Jensen-Shannon distance (natural log): √(½ KL(b‖m) + ½ KL(c‖m)) with m = ½ (b + c), after the epsilon smoothing;
    /// scipy.spatial.distance.jensenshannon with its default base. At most √ln 2 ≈ 0.833.
    /// </summary>
    public static double JensenShannon(ReadOnlySpan<double> baseline, ReadOnlySpan<double> current)
    {
        CheckLengths(baseline, current);
        var (sumBase, sumCur) = (Smoothed(baseline), Smoothed(current));
        double left = 0, right = 0;
        for (var i = 0; i < baseline.Length; i++)
        {
            var b = (baseline[i] + Epsilon) / sumBase;
            var c = (current[i] + Epsilon) / sumCur;
            var m = (b + c) / 2.0;
            left += b * Math.Log(b / m);
            right += c * Math.Log(c / m);
        }

        return Math.Sqrt(Math.Max(0, (left + right) / 2.0));
    }

    /// <summary>Binned Kolmogorov-Smirnov: the largest |CDF_cur − CDF_base| over the bins' upper edges (no smoothing).</summary>
    public static double KolmogorovSmirnov(ReadOnlySpan<double> baseline, ReadOnlySpan<double> current)
    {
        CheckLengths(baseline, current);
        double cdfBase = 0, cdfCur = 0, ks = 0;
        for (var i = 0; i < baseline.Length; i++)
        {
            cdfBase += baseline[i];
            cdfCur += current[i];
            ks = Math.Max(ks, Math.Abs(cdfCur - cdfBase));
        }

        return ks;
    }

    private static double Smoothed(ReadOnlySpan<double> proportions)
    {
        var sum = 0.0;
        foreach (var p in proportions)
        {
            sum += p + Epsilon;
        }

        return sum;
    }

    private static void CheckLengths(ReadOnlySpan<double> baseline, ReadOnlySpan<double> current)
    {
        if (baseline.Length != current.Length || baseline.IsEmpty)
        {
            throw new ArgumentException($"{current.Length} current bins for {baseline.Length} baseline bins");
        }
    }
}
