using EdgeAgent.Core.Drift;

namespace EdgeAgent.Core.Tests.Drift;

public sealed class DriftBaselineBuilderTests
{
    private static readonly DriftFeatureSpec Feature = new("features[0]", "features", false, 0, DriftStatistic.Value);

    [Fact]
    public void Uniform_values_get_ten_equal_bins()
    {
        double[] values = [.. Enumerable.Range(0, 1000).Select(i => (double)i)];

        var d = DriftBaselineBuilder.Build(Feature, values);

        Assert.Equal(9, d.Edges!.Count);
        Assert.Equal(99.9, d.Edges[0], 1e-12);
        Assert.All(d.Proportions, p => Assert.Equal(0.1, p, 1e-12));
    }

    [Fact]
    public void A_constant_feature_has_one_bin()
    {
        var d = DriftBaselineBuilder.Build(Feature, [.. Enumerable.Repeat(4.2, 100)]);

        Assert.Empty(d.Edges!);
        Assert.Equal([1.0], d.Proportions);
    }

    [Fact]
    public void Tied_quantiles_become_one_edge()
    {
        // 70% zeros: the quantiles 0.1 .. 0.6 are all 0 (numpy: [0 0 0 0 0 0 0.3 100.2 200.1]).
        double[] values = [.. Enumerable.Repeat(0.0, 700), .. Enumerable.Range(1, 300).Select(i => (double)i)];

        var d = DriftBaselineBuilder.Build(Feature, values);

        Assert.Equal(4, d.Edges!.Count);
        Assert.Equal([0.0, 0.3, 100.2, 200.1], d.Edges.Select(e => Math.Round(e, 9)));
        Assert.Equal(0.7, d.Proportions[0], 1e-12);
        Assert.Equal(1.0, d.Proportions.Sum(), 1e-12);
    }

    [Fact]
    public void NaN_values_are_left_out_of_the_baseline()
    {
        double[] values = [double.NaN, 1, 2, 3, 4, double.NaN];

        var d = DriftBaselineBuilder.Build(Feature, values, bins: 2);

        Assert.Equal([2.5], d.Edges);
        Assert.Equal([0.5, 0.5], d.Proportions);
    }

    [Fact]
    public void Only_NaN_is_no_baseline()
    {
        var ex = Assert.Throws<ArgumentException>(() => DriftBaselineBuilder.Build(Feature, [double.NaN]));

        Assert.Contains("features[0]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Integer_outputs_become_classes_with_their_shares()
    {
        var d = DriftBaselineBuilder.Build(new DriftFeatureSpec("label", "label", true, null, DriftStatistic.Class), [2, 0, 0, 1, 0, 2, 0, 1]);

        Assert.Equal([0L, 1, 2], d.Classes);
        Assert.Equal([0.5, 0.25, 0.25], d.Proportions);
        Assert.Null(d.Edges);
        Assert.Equal("label", d.Output);
        Assert.Null(d.Input);
    }

    [Fact]
    public void Too_many_classes_are_refused()
    {
        var spec = new DriftFeatureSpec("id", "id", true, null, DriftStatistic.Class);

        Assert.Throws<ArgumentException>(() => DriftBaselineBuilder.Build(spec, [.. Enumerable.Range(0, DriftBaseline.MaxClasses + 1).Select(i => (double)i)]));
    }

    [Fact]
    public void Quantile_interpolates_like_numpy()
    {
        double[] sorted = [1, 2, 4, 8];

        Assert.Equal(1.0, DriftBaselineBuilder.Quantile(sorted, 0));
        Assert.Equal(3.0, DriftBaselineBuilder.Quantile(sorted, 0.5));
        Assert.Equal(5.6, DriftBaselineBuilder.Quantile(sorted, 0.8), 1e-12);
        Assert.Equal(8.0, DriftBaselineBuilder.Quantile(sorted, 1));
    }
}
