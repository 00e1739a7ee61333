namespace EdgeAgent.Core.Drift;

/// <summary>
/// Hysteresis over windows for one model: per feature and output, and overall (docs/drift.md#thresholds). An entry
/// enters drift when any statistic reaches its raise threshold and leaves it when all are below their clear threshold;
/// an entry with fewer than <see cref="MinSamples"/> values in a window is insufficient and keeps its state. The model
/// is in drift while any entry is. Not thread-safe: evaluate one window at a time.
/// </summary>
public sealed class DriftTracker
{
    public const int DefaultMinSamples = 50;

    private readonly DriftDistribution[] _entries;
    private readonly double[][] _baselines;
    private readonly DriftState[] _states;

    public DriftTracker(DriftBaseline baseline, int minSamples = DefaultMinSamples)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentOutOfRangeException.ThrowIfLessThan(minSamples, 1);
        Baseline = baseline;
        MinSamples = minSamples;
        _entries = [.. baseline.Features, .. baseline.Outputs];
        _baselines = [.. _entries.Select(e => e.BaselinePerBin())];
        _states = new DriftState[_entries.Length];
    }

    public DriftBaseline Baseline { get; }

    public int MinSamples { get; }

    /// <summary>The model's state: <see cref="DriftState.Drift"/> while any entry is in drift, else <see cref="DriftState.Ok"/>.</summary>
    public DriftState State { get; private set; }

    /// <summary>Scores one window's counts (from <see cref="DriftRecorder.TakeWindow"/>), moves the states, and reports.</summary>
    public DriftWindowReport Evaluate(DriftWindowCounts counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (counts.Features.Count != Baseline.Features.Count || counts.Outputs.Count != Baseline.Outputs.Count)
        {
            throw new ArgumentException($"counts for {counts.Features.Count} features and {counts.Outputs.Count} outputs; the baseline has {Baseline.Features.Count} and {Baseline.Outputs.Count}");
        }

        var previous = State;
        var reports = new DriftEntryReport[_entries.Length];
        long count = 0;
        var sufficient = false;
        for (var i = 0; i < _entries.Length; i++)
        {
            var window = i < counts.Features.Count ? counts.Features[i] : counts.Outputs[i - counts.Features.Count];
            var binned = window.Binned;
            count = Math.Max(count, binned + window.NaN);
            // One copy of the bins per entry and window (not per request): scored, then carried by the report.
            long[]? bins = binned > 0 ? [.. window.Bins] : null;
            DriftScores? scores = bins is null ? null : DriftStatistics.Compare(_baselines[i], bins);
            var categorical = _entries[i].IsCategorical;
            DriftState state;
            if (binned < MinSamples || scores is null)
            {
                state = DriftState.Insufficient;
            }
            else
            {
                sufficient = true;
                state = _states[i] = Baseline.Thresholds.Next(_states[i], scores.Value);
            }

            reports[i] = new DriftEntryReport
            {
                Name = _entries[i].Name,
                Psi = scores?.Psi,
                Js = scores?.Js,
                Ks = scores?.Ks,
                State = state,
                Counts = bins is null ? null : categorical ? bins[..^1] : bins,
                Other = bins is not null && categorical ? bins[^1] : null,
                Count = binned,
                NaN = window.NaN,
            };
        }

        State = _states.Contains(DriftState.Drift) ? DriftState.Drift : DriftState.Ok;
        var features = Baseline.Features.Count;
        return new DriftWindowReport(sufficient ? State : DriftState.Insufficient, previous, count, reports[..features], reports[features..]);
    }
}
