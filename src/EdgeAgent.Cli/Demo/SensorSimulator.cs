using System.Globalization;
using System.Text;

namespace EdgeAgent.Cli.Demo;

/// <summary>Simulated vibration sensor: feature vectors for the sample model, mostly normal, sometimes warning or fault.</summary>
internal sealed class SensorSimulator
{
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

    /// <summary>An Open Inference Protocol request with one sample; returns the class the sample was drawn from.</summary>
    public byte[] NextRequest(out int trueClass)
    {
        var roll = _random.NextDouble();
        trueClass = roll < 0.8 ? 0 : roll < 0.95 ? 1 : 2;
        var sb = new StringBuilder("{\"inputs\":[{\"name\":\"features\",\"shape\":[1,8],\"datatype\":\"FP32\",\"data\":[");
        for (var i = 0; i < 8; i++)
        {
            var value = Centers[trueClass][i] + (Gaussian() * Spread[i]);
            sb.Append(i == 0 ? string.Empty : ",").Append(value.ToString("0.####", CultureInfo.InvariantCulture));
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
