using System.Globalization;
using System.Text.Json;
using EdgeAgent.Core.Drift;

namespace EdgeAgent.Core.Tests.Drift;

/// <summary>
/// The drift maths against tests/fixtures/drift/reference.json, which make_reference.py computes with numpy and scipy
/// (an independent implementation) from the same samples.
/// </summary>
public sealed class DriftReferenceTests
{
    private const double Tolerance = 1e-9;

    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "fixtures", "drift");

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in Reference().GetProperty("cases").EnumerateArray())
        {
            data.Add(c.GetProperty("name").GetString()!);
        }

        return data;
    }

    [Fact]
    public void The_reference_uses_the_same_epsilon()
    {
        Assert.Equal(DriftStatistics.Epsilon, Reference().GetProperty("epsilon").GetDouble());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Baseline_bins_match_numpy(string name)
    {
        var (c, baseline, _) = Load(name);

        var distribution = Build(c, baseline);

        if (c.TryGetProperty("edges", out var edges))
        {
            AssertClose(Doubles(edges), distribution.Edges!);
        }
        else
        {
            Assert.Equal(c.GetProperty("classes").EnumerateArray().Select(e => e.GetInt64()), distribution.Classes!);
        }

        AssertClose(Doubles(c.GetProperty("baseline_proportions")), distribution.BaselinePerBin());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Psi_js_and_ks_match_scipy(string name)
    {
        var (c, baseline, current) = Load(name);
        var histogram = new DriftHistogram(Build(c, baseline));

        foreach (var v in current)
        {
            histogram.Add(v);
        }

        var counts = new long[histogram.BinCount];
        histogram.TakeCounts(counts, out _);
        var scores = DriftStatistics.Compare(histogram, counts);
        var proportions = new double[counts.Length];
        DriftStatistics.Proportions(counts, proportions);
        AssertClose(Doubles(c.GetProperty("current_proportions")), proportions);
        Assert.Equal(c.GetProperty("psi").GetDouble(), scores.Psi, Tolerance);
        Assert.Equal(c.GetProperty("js").GetDouble(), scores.Js, Tolerance);
        Assert.Equal(c.GetProperty("ks").GetDouble(), scores.Ks, Tolerance);
    }

    /// <summary>
    /// The binned KS only looks at the edges, so it is at most the raw two-sample KS, and short of it by no more than the
    /// largest baseline bin: inside a bin of baseline share p both CDFs are monotone, so their difference stays within p
    /// of its values at the bin's edges.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Binned_ks_is_within_the_largest_baseline_bin_of_scipy_ks_2samp(string name)
    {
        var (c, baseline, current) = Load(name);
        if (!c.GetProperty("ks_bound_applies").GetBoolean())
        {
            return;
        }

        var histogram = new DriftHistogram(Build(c, baseline));
        foreach (var v in current)
        {
            histogram.Add(v);
        }

        var counts = new long[histogram.BinCount];
        histogram.TakeCounts(counts, out _);
        var binned = DriftStatistics.Compare(histogram, counts).Ks;
        var raw = c.GetProperty("ks_2samp").GetDouble();
        var widest = histogram.BaselineProportions.ToArray().Max();

        Assert.InRange(raw - binned, -Tolerance, widest + Tolerance);
    }

    private static DriftDistribution Build(JsonElement c, double[] baseline)
    {
        var categorical = c.GetProperty("kind").GetString() == "categorical";
        var spec = new DriftFeatureSpec("x", "x", categorical, categorical ? null : 0, categorical ? DriftStatistic.Class : DriftStatistic.Value);
        return DriftBaselineBuilder.Build(spec, baseline, c.GetProperty("bins").GetInt32());
    }

    private static (JsonElement Case, double[] Baseline, double[] Current) Load(string name)
    {
        var c = Reference().GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        return (c, ReadValues(c.GetProperty("baseline").GetString()!), ReadValues(c.GetProperty("current").GetString()!));
    }

    private static JsonElement Reference()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Folder, "reference.json")));
        return doc.RootElement.Clone();
    }

    private static double[] ReadValues(string relative) =>
        [.. File.ReadLines(Path.Combine(Folder, relative)).Skip(1).Select(l => double.Parse(l, CultureInfo.InvariantCulture))];

    private static double[] Doubles(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetDouble())];

    private static void AssertClose(double[] expected, IReadOnlyList<double> actual)
    {
        Assert.Equal(expected.Length, actual.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], Tolerance);
        }
    }
}
