namespace EdgeAgent.Core.Telemetry;

/// <summary>
/// Lock-free latency histogram with log-spaced buckets (8 per power of two, about 9% wide) from 1 µs to ~1 hour.
/// Recording is one Interlocked.Increment; percentiles are read from the bucket counts.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBuckets = 8;
    private const int Octaves = 32; // 1 µs * 2^32 ≈ 71 minutes
    private readonly long[] _counts = new long[(SubBuckets * Octaves) + 1];
    private long _count;
    private long _sumMicros;
    private long _maxMicros;

    public long Count => Interlocked.Read(ref _count);

    public void Record(double micros)
    {
        var us = micros < 1 ? 1 : micros;
        var index = BucketOf(us);
        Interlocked.Increment(ref _counts[index]);
        Interlocked.Increment(ref _count);
        var whole = (long)us;
        Interlocked.Add(ref _sumMicros, whole);
        long seen;
        while (whole > (seen = Interlocked.Read(ref _maxMicros)))
        {
            if (Interlocked.CompareExchange(ref _maxMicros, whole, seen) == seen)
            {
                break;
            }
        }
    }

    private static int BucketOf(double micros)
    {
        var log = Math.Log2(micros) * SubBuckets;
        var index = (int)log;
        return index < 0 ? 0 : index >= SubBuckets * Octaves ? SubBuckets * Octaves : index;
    }

    /// <summary>Upper edge of a bucket in microseconds.</summary>
    private static double UpperEdge(int index) => Math.Pow(2, (index + 1) / (double)SubBuckets);

    /// <summary>Latency at quantile <paramref name="q"/> (0..1) in microseconds: the upper edge of the bucket that holds it, capped at the max seen.</summary>
    public double Quantile(double q)
    {
        var total = Count;
        if (total == 0)
        {
            return 0;
        }

        var rank = (long)Math.Ceiling(q * total);
        if (rank < 1)
        {
            rank = 1;
        }

        long running = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            running += Interlocked.Read(ref _counts[i]);
            if (running >= rank)
            {
                return Math.Min(UpperEdge(i), MaxMicros);
            }
        }

        return MaxMicros;
    }

    public double MeanMicros => Count == 0 ? 0 : Interlocked.Read(ref _sumMicros) / (double)Count;

    public double MaxMicros => Interlocked.Read(ref _maxMicros);
}
