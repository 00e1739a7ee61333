using System.Numerics;

namespace EdgeAgent.Core.Drift;

/// <summary>
/// Feeds the samples of one model input or output into the histograms that measure it (from a
/// <see cref="DriftRecorder"/>). Thread-safe and allocation-free; the cost per sample is one histogram update per
/// monitored value, plus one pass over the sample for a mean/std summary.
/// </summary>
public sealed class DriftTap
{
    private readonly DriftHistogram[] _histograms;
    private readonly DriftStatistic[] _statistics;
    private readonly int[] _indexes;

    internal DriftTap(string tensor, bool isOutput, IReadOnlyList<DriftHistogram> histograms)
    {
        Tensor = tensor;
        IsOutput = isOutput;
        _histograms = [.. histograms];
        _statistics = [.. histograms.Select(h => h.Distribution!.Statistic)];
        _indexes = [.. histograms.Select(h => h.Distribution!.Index ?? -1)];
    }

    public string Tensor { get; }

    public bool IsOutput { get; }

    /// <summary>The histograms this tap feeds.</summary>
    public IReadOnlyList<DriftHistogram> Histograms => _histograms;

    /// <summary>Counts one sample (one row along the first axis, flattened row-major). An index beyond the sample is skipped.</summary>
    public void AddSample<T>(ReadOnlySpan<T> sample)
        where T : INumberBase<T>
    {
        for (var i = 0; i < _histograms.Length; i++)
        {
            var histogram = _histograms[i];
            switch (_statistics[i])
            {
                case DriftStatistic.Value:
                    var index = _indexes[i];
                    if ((uint)index < (uint)sample.Length)
                    {
                        histogram.Add(double.CreateTruncating(sample[index]));
                    }

                    break;
                case DriftStatistic.Mean:
                    histogram.Add(DriftSummaries.Mean(sample));
                    break;
                case DriftStatistic.Std:
                    histogram.Add(DriftSummaries.StandardDeviation(sample));
                    break;
                case DriftStatistic.Class:
                    foreach (var v in sample)
                    {
                        histogram.Add(double.CreateTruncating(v));
                    }

                    break;
            }
        }
    }

    /// <summary>Counts each of <paramref name="samples"/> equal-sized samples of a batch (the tensor's data, row-major).</summary>
    /// <exception cref="ArgumentException">The data does not split into <paramref name="samples"/> equal samples.</exception>
    public void AddSamples<T>(ReadOnlySpan<T> batch, int samples)
        where T : INumberBase<T>
    {
        if (samples <= 0)
        {
            return;
        }

        if (batch.Length % samples != 0)
        {
            throw new ArgumentException($"{batch.Length} values of '{Tensor}' do not split into {samples} samples");
        }

        var size = batch.Length / samples;
        for (var s = 0; s < samples; s++)
        {
            AddSample(batch.Slice(s * size, size));
        }
    }
}
