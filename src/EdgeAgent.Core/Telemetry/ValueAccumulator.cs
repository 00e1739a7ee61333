namespace EdgeAgent.Core.Telemetry;

/// <summary>
/// Count, sum, minimum and maximum of a stream of values, lock-free: a caller folds one response's elements locally and
/// adds the result here with a few atomic operations (<see cref="Add"/>), so the cost per response does not grow with
/// the number of threads.
/// </summary>
public sealed class ValueAccumulator
{
    private long _count;
    private double _sum;
    private double _min = double.PositiveInfinity;
    private double _max = double.NegativeInfinity;

    public long Count => Interlocked.Read(ref _count);

    public void Add(long count, double sum, double min, double max)
    {
        if (count <= 0)
        {
            return;
        }

        Interlocked.Add(ref _count, count);
        var current = Volatile.Read(ref _sum);
        while (true)
        {
            var prior = Interlocked.CompareExchange(ref _sum, current + sum, current);
            if (prior.Equals(current))
            {
                break;
            }

            current = prior;
        }

        current = Volatile.Read(ref _min);
        while (min < current)
        {
            var prior = Interlocked.CompareExchange(ref _min, min, current);
            if (prior.Equals(current))
            {
                break;
            }

            current = prior;
        }

        current = Volatile.Read(ref _max);
        while (max > current)
        {
            var prior = Interlocked.CompareExchange(ref _max, max, current);
            if (prior.Equals(current))
            {
                break;
            }

            current = prior;
        }
    }

    public ValueSummary Summarize(string name, int digits = 6)
    {
        var count = Count;
        return count == 0
            ? new ValueSummary(name, 0, 0, 0, 0)
            : new ValueSummary(name, count, Math.Round(Volatile.Read(ref _sum) / count, digits), Math.Round(Volatile.Read(ref _min), digits), Math.Round(Volatile.Read(ref _max), digits));
    }
}
