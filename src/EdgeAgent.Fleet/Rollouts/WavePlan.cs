using System.Globalization;

namespace EdgeAgent.Fleet.Rollouts;

/// <summary>
/// Wave maths, without I/O. Waves are cumulative: <c>1,10%,50%,100%</c> over 20 devices targets 1 device, then 2 in
/// total, then 10, then 20. A percentage rounds up; a wave that adds no device is dropped; a plan that does not reach
/// every target gets a last wave with the rest.
/// </summary>
public static class WavePlan
{
    public const string DefaultSpec = "1,10%,50%,100%";

    /// <summary>Parses <c>1,10%,50%,100%</c>; throws <see cref="FormatException"/> naming the bad entry.</summary>
    public static IReadOnlyList<WaveStep> Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var steps = new List<WaveStep>();
        foreach (var raw in spec.Split(',', StringSplitOptions.TrimEntries))
        {
            if (raw.EndsWith('%'))
            {
                if (!decimal.TryParse(raw[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var percent) || percent <= 0 || percent > 100)
                {
                    throw new FormatException($"wave '{raw}' is not a percentage in (0%, 100%]");
                }

                steps.Add(new WaveStep(null, percent));
            }
            else if (int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count >= 1)
            {
                steps.Add(new WaveStep(count, null));
            }
            else
            {
                throw new FormatException($"wave '{raw}' is neither a device count (1 or more) nor a percentage such as 10%");
            }
        }

        // Waves are cumulative: a later wave of the same kind must be larger (50%,10% is a typo, not a plan).
        WaveStep? lastCount = null, lastPercent = null;
        foreach (var step in steps)
        {
            var previous = step.Count is null ? lastPercent : lastCount;
            if (previous is not null && (step.Count ?? step.Percent) <= (previous.Count ?? previous.Percent))
            {
                throw new FormatException($"waves are cumulative, so each must be larger than the one before of its kind: '{spec}'");
            }

            if (step.Count is null)
            {
                lastPercent = step;
            }
            else
            {
                lastCount = step;
            }
        }

        return steps;
    }

    /// <summary>The cumulative number of devices targeted after each wave, strictly increasing, the last one <paramref name="total"/>.</summary>
    public static IReadOnlyList<int> CumulativeSizes(IReadOnlyList<WaveStep> steps, int total)
    {
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(total);
        var sizes = new List<int>();
        var previous = 0;
        foreach (var step in steps)
        {
            var size = step.Count ?? (int)Math.Ceiling(step.Percent!.Value * total / 100m);
            size = Math.Min(Math.Max(size, 1), total);
            if (size > previous)
            {
                sizes.Add(size);
                previous = size;
            }
        }

        if (previous < total)
        {
            sizes.Add(total);
        }

        return sizes;
    }

    /// <summary>The devices wave <paramref name="wave"/> (1-based) adds, in target order.</summary>
    public static IReadOnlyList<string> DevicesOf(IReadOnlyList<string> targets, IReadOnlyList<int> sizes, int wave)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentOutOfRangeException.ThrowIfLessThan(wave, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(wave, sizes.Count);
        var from = wave == 1 ? 0 : sizes[wave - 2];
        return [.. targets.Skip(from).Take(sizes[wave - 1] - from)];
    }

    /// <summary>How many devices must succeed in a wave of <paramref name="waveSize"/> for <paramref name="threshold"/> (0..1): rounded up.</summary>
    public static int Required(decimal threshold, int waveSize) => (int)Math.Ceiling(threshold * waveSize);
}
