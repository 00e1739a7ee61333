using System.Runtime.CompilerServices;

namespace EdgeAgent.Core.Drift;

/// <summary>
/// Counts values into the bins of one baseline distribution. <see cref="Add"/> is thread-safe, lock-free and allocates
/// nothing: a binary search over at most <see cref="DriftBaseline.MaxBins"/> edges (or classes) and one
/// <see cref="Interlocked.Increment(ref long)"/>. NaN is counted apart and never binned.
/// </summary>
/// <remarks>
/// Numeric bins: bin i holds (edges[i-1], edges[i]], the first and last open, so the bin of v is the number of edges
/// below v (numpy's <c>searchsorted(edges, v, side="left")</c>). Categorical bins: one per class, by exact value, and a
/// last "other" bin for values the baseline never saw (baseline share 0). Each bin's counter has a cache line to itself,
/// so threads adding to different bins do not contend.
/// </remarks>
public sealed class DriftHistogram
{
    private const int Stride = 8; // 8 longs = 64 bytes
    private const int LinearKeys = 16;
    private readonly double[] _keys;
    private readonly bool _categorical;
    private readonly long[] _counts;
    private readonly double[] _baseline;
    private long _nan;

    private DriftHistogram(double[] keys, bool categorical, double[] baseline)
    {
        _keys = keys;
        _categorical = categorical;
        BinCount = keys.Length + 1;
        _counts = new long[BinCount * Stride];
        _baseline = baseline;
    }

    /// <summary>A histogram with the bins of <paramref name="distribution"/>, and its baseline proportions per bin.</summary>
    public DriftHistogram(DriftDistribution distribution)
        : this(KeysOf(distribution), distribution.IsCategorical, distribution.BaselinePerBin())
    {
        Distribution = distribution;
    }

    /// <summary>Numeric bins cut at these ascending inner edges (no baseline proportions).</summary>
    public static DriftHistogram WithEdges(ReadOnlySpan<double> edges) => new(CheckAscending(edges.ToArray()), categorical: false, []);

    /// <summary>One bin per class (ascending, distinct) and an "other" bin (no baseline proportions).</summary>
    public static DriftHistogram WithClasses(ReadOnlySpan<long> classes) => new(CheckAscending([.. classes.ToArray().Select(c => (double)c)]), categorical: true, []);

    /// <summary>The baseline entry this histogram was built from; null for one built from bare edges or classes.</summary>
    public DriftDistribution? Distribution { get; }

    /// <summary>Number of bins: edges + 1, or classes + 1 (the "other" bin).</summary>
    public int BinCount { get; }

    public bool IsCategorical => _categorical;

    /// <summary>Baseline share per bin (<see cref="BinCount"/> long; the "other" bin of a categorical one is 0); empty without a baseline.</summary>
    public ReadOnlySpan<double> BaselineProportions => _baseline;

    /// <summary>NaN values added since the last <see cref="TakeCounts"/>.</summary>
    public long NaNCount => Interlocked.Read(ref _nan);

    /// <summary>The bin <paramref name="value"/> falls in; -1 for NaN.</summary>
    public int BinOf(double value)
    {
        if (double.IsNaN(value))
        {
            return -1;
        }

        var keys = _keys;
        var below = CountBelow(keys, value);
        if (_categorical && (below == keys.Length || keys[below] != value))
        {
            return keys.Length;
        }

        return below;
    }

    /// <summary>
    /// How many keys are below <paramref name="value"/> (numpy's <c>searchsorted(keys, value, side="left")</c>), without a
    /// data-dependent branch: random values would mispredict about half the comparisons of a plain binary search. Up to
    /// <see cref="LinearKeys"/> keys are counted one by one, more by a binary search whose steps are conditional moves.
    /// </summary>
    private static int CountBelow(double[] keys, double value)
    {
        if (keys.Length <= LinearKeys)
        {
            var count = 0;
            foreach (var k in keys)
            {
                count += k < value ? 1 : 0;
            }

            return count;
        }

        int lo = 0, n = keys.Length;
        while (n > 1)
        {
            var half = n >> 1;
            // half & -(0 or 1): the comparison becomes a setcc, not a branch.
            lo += half & -Unsafe.BitCast<bool, byte>(keys[lo + half] < value);
            n -= half;
        }

        return lo + (keys[lo] < value ? 1 : 0);
    }

    /// <summary>Counts one value. Thread-safe, lock-free, allocation-free.</summary>
    public void Add(double value)
    {
        var bin = BinOf(value);
        if (bin < 0)
        {
            Interlocked.Increment(ref _nan);
            return;
        }

        Interlocked.Increment(ref _counts[bin * Stride]);
    }

    /// <summary>Copies the count of each bin into <paramref name="destination"/> (at least <see cref="BinCount"/> long); returns their sum.</summary>
    public long CopyCounts(Span<long> destination)
    {
        CheckDestination(destination);
        long total = 0;
        for (var i = 0; i < BinCount; i++)
        {
            total += destination[i] = Interlocked.Read(ref _counts[i * Stride]);
        }

        return total;
    }

    /// <summary>
    /// Moves the counts into <paramref name="destination"/> and starts again from zero, bin by bin with
    /// <see cref="Interlocked.Exchange(ref long, long)"/>: a value added meanwhile is counted in this window or the next,
    /// never lost and never twice. Returns the sum of the bins; <paramref name="nan"/> gets the NaN count, also reset.
    /// </summary>
    public long TakeCounts(Span<long> destination, out long nan)
    {
        CheckDestination(destination);
        long total = 0;
        for (var i = 0; i < BinCount; i++)
        {
            total += destination[i] = Interlocked.Exchange(ref _counts[i * Stride], 0);
        }

        nan = Interlocked.Exchange(ref _nan, 0);
        return total;
    }

    private void CheckDestination(Span<long> destination)
    {
        if (destination.Length < BinCount)
        {
            throw new ArgumentException($"destination holds {destination.Length} counts, the histogram has {BinCount} bins", nameof(destination));
        }
    }

    private static double[] KeysOf(DriftDistribution distribution)
    {
        ArgumentNullException.ThrowIfNull(distribution);
        return distribution.IsCategorical
            ? CheckAscending([.. (distribution.Classes ?? []).Select(c => (double)c)])
            : CheckAscending([.. distribution.Edges ?? []]);
    }

    private static double[] CheckAscending(double[] keys)
    {
        for (var i = 0; i < keys.Length; i++)
        {
            if (!double.IsFinite(keys[i]) || (i > 0 && keys[i] <= keys[i - 1]))
            {
                throw new ArgumentException("bin edges and classes must be finite and strictly ascending");
            }
        }

        return keys;
    }
}
