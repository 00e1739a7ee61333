using System.Globalization;
using System.Text;
using EdgeAgent.Core.Drift;

namespace EdgeAgent.Cli.Demo;

/// <summary>
/// Simulated vibration sensor: feature vectors for the sample model, mostly normal, sometimes warning or fault. A
/// "shifted" sensor (a loosened mounting: more energy, higher frequencies) produces the same classes with a different
/// distribution, which the agent's drift monitor must notice.
/// </summary>
internal sealed class SensorSimulator
{
    public const int Features = 8;

    // rms, peak, crest factor, kurtosis, skewness, dominant frequency (kHz), low-band energy, high-band energy
    private static readonly double[][] Centers =
    [
        [0.5, 1.4, 2.8, 3.0, 0.0, 0.12, 0.8, 0.1],
        [1.2, 4.0, 3.4, 4.5, 0.3, 0.35, 0.6, 0.4],
        [2.4, 9.5, 4.2, 8.0, 0.9, 0.90, 0.3, 0.9],
    ];

    private static readonly double[] Spread = [0.15, 0.6, 0.3, 0.7, 0.15, 0.08, 0.08, 0.08];

    private readonly Random _random;

    public SensorSimulator(int seed) => _random = new Random(seed);

    /// <summary>One reading; <paramref name="trueClass"/> is the state it was drawn from.</summary>
    public double[] Next(bool shifted, out int trueClass)
    {
        var roll = _random.NextDouble();
        trueClass = roll < 0.8 ? 0 : roll < 0.95 ? 1 : 2;
        var row = new double[Features];
        for (var i = 0; i < Features; i++)
        {
            row[i] = Centers[trueClass][i] + (Gaussian() * Spread[i]);
        }

        if (shifted)
        {
            row[0] = (row[0] * 1.4) + 0.2;
            row[5] += 0.15;
            row[7] += 0.12;
        }

        return row;
    }

    /// <summary>
    /// An Open Inference Protocol request with <paramref name="classes"/>.Length readings; fills in the class of each.
    /// With <paramref name="labelled"/>, also adds each reading as a CSV line with its true class as the last column
    /// (rms,...,high_band,label: the layout of samples/vibration/dataset.py), as a later labelling step would know it.
    /// </summary>
    public byte[] NextRequest(bool shifted, int[] classes, List<string>? labelled = null)
    {
        var sb = new StringBuilder($"{{\"inputs\":[{{\"name\":\"features\",\"shape\":[{classes.Length},{Features}],\"datatype\":\"FP32\",\"data\":[");
        var line = labelled is null ? null : new StringBuilder();
        for (var r = 0; r < classes.Length; r++)
        {
            var row = Next(shifted, out classes[r]);
            line?.Clear();
            for (var i = 0; i < Features; i++)
            {
                var text = row[i].ToString("0.####", CultureInfo.InvariantCulture);
                sb.Append(r == 0 && i == 0 ? string.Empty : ",").Append(text);
                line?.Append(text).Append(',');
            }

            labelled?.Add(line!.Append(classes[r].ToString(CultureInfo.InvariantCulture)).ToString());
        }

        sb.Append("]}]}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>
    /// A drift baseline of <paramref name="rows"/> readings of the healthy sensor, as a training set would hold them:
    /// one quantile-binned distribution per feature of the input <c>features</c>.
    /// </summary>
    public static DriftBaseline Baseline(int rows, int seed)
    {
        var sensor = new SensorSimulator(seed);
        var readings = Enumerable.Range(0, rows).Select(_ => sensor.Next(shifted: false, out _)).ToArray();
        return new DriftBaseline
        {
            Samples = readings.Length,
            Features = [.. Enumerable.Range(0, Features).Select(i => DriftBaselineBuilder.Build(
                new DriftFeatureSpec(DriftFeatureSpec.ElementName("features", i), "features", IsOutput: false, i, DriftStatistic.Value),
                [.. readings.Select(r => r[i])]))],
        };
    }

    private double Gaussian()
    {
        var u1 = 1.0 - _random.NextDouble();
        var u2 = _random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
