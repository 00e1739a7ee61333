namespace EdgeAgent.Core.Drift;

/// <summary>
/// The live histograms of one model's baseline: one per feature and per output, fed through a <see cref="DriftTap"/>
/// per tensor from any number of threads, and taken out once per window with <see cref="TakeWindow"/>.
/// </summary>
public sealed class DriftRecorder
{
    private readonly Dictionary<string, DriftTap> _inputs;
    private readonly Dictionary<string, DriftTap> _outputs;

    public DriftRecorder(DriftBaseline baseline)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        Baseline = baseline;
        Features = [.. baseline.Features.Select(d => new DriftHistogram(d))];
        Outputs = [.. baseline.Outputs.Select(d => new DriftHistogram(d))];
        _inputs = Features.GroupBy(h => h.Distribution!.Input!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => new DriftTap(g.Key, isOutput: false, [.. g]), StringComparer.Ordinal);
        _outputs = Outputs.GroupBy(h => h.Distribution!.Output!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => new DriftTap(g.Key, isOutput: true, [.. g]), StringComparer.Ordinal);
    }

    public DriftBaseline Baseline { get; }

    /// <summary>One histogram per entry of the baseline's <c>features</c>, in order.</summary>
    public IReadOnlyList<DriftHistogram> Features { get; }

    /// <summary>One histogram per entry of the baseline's <c>outputs</c>, in order.</summary>
    public IReadOnlyList<DriftHistogram> Outputs { get; }

    /// <summary>The tap of a model input, or null when no feature measures it. Look it up once, not per request.</summary>
    public DriftTap? Input(string name) => _inputs.GetValueOrDefault(name);

    /// <summary>The tap of a model output, or null when nothing measures it.</summary>
    public DriftTap? Output(string name) => _outputs.GetValueOrDefault(name);

    /// <summary>Takes every histogram's counts and starts the next window from zero (no value lost or counted twice).</summary>
    public DriftWindowCounts TakeWindow() => new([.. Features.Select(Take)], [.. Outputs.Select(Take)]);

    private static DriftBinCounts Take(DriftHistogram histogram)
    {
        var bins = new long[histogram.BinCount];
        histogram.TakeCounts(bins, out var nan);
        return new DriftBinCounts(bins, nan);
    }
}
