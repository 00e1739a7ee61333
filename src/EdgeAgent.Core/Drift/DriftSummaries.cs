using System.Numerics;

namespace EdgeAgent.Core.Drift;

/// <summary>Per-sample summaries of a large tensor: mean and population standard deviation (as numpy's <c>mean</c>, <c>std</c> with ddof=0).</summary>
public static class DriftSummaries
{
    /// <summary>The mean of <paramref name="sample"/>; NaN when it is empty or holds NaN.</summary>
    public static double Mean<T>(ReadOnlySpan<T> sample)
        where T : INumberBase<T>
    {
        if (sample.IsEmpty)
        {
            return double.NaN;
        }

        var sum = 0.0;
        foreach (var v in sample)
        {
            sum += double.CreateTruncating(v);
        }

        return sum / sample.Length;
    }

    /// <summary>The population standard deviation of <paramref name="sample"/> (two passes: mean, then squared deviations); NaN when empty.</summary>
    public static double StandardDeviation<T>(ReadOnlySpan<T> sample)
        where T : INumberBase<T>
    {
        var mean = Mean(sample);
        if (double.IsNaN(mean))
        {
            return double.NaN;
        }

        var squares = 0.0;
        foreach (var v in sample)
        {
            var d = double.CreateTruncating(v) - mean;
            squares += d * d;
        }

        return Math.Sqrt(squares / sample.Length);
    }
}
