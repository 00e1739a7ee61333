using System.Globalization;
using System.Text;

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

    /// <summary>An Open Inference Protocol request with <paramref name="classes"/>.Length readings; fills in the class of each.</summary>
    public byte[] NextRequest(bool shifted, int[] classes)
    {
        var sb = new StringBuilder($"{{\"inputs\":[{{\"name\":\"features\",\"shape\":[{classes.Length},{Features}],\"datatype\":\"FP32\",\"data\":[");
        for (var r = 0; r < classes.Length; r++)
        {
            var row = Next(shifted, out classes[r]);
            for (var i = 0; i < Features; i++)
            {
                sb.Append(r == 0 && i == 0 ? string.Empty : ",").Append(row[i].ToString("0.####", CultureInfo.InvariantCulture));
            }
        }

        sb.Append("]}]}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private double Gaussian()
    {
        var u1 = 1.0 - _random.NextDouble();
        var u2 = _random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
