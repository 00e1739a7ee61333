using EdgeAgent.Core.Drift;

namespace EdgeAgent.Core.Tests.Drift;

public sealed class DriftStatisticsTests
{
    [Fact]
    public void A_window_like_the_baseline_scores_zero()
    {
        var scores = DriftStatistics.Compare([0.25, 0.25, 0.5], [10L, 10, 20]);

        Assert.Equal(0, scores.Psi, 1e-15);
        Assert.Equal(0, scores.Js, 1e-7);
        Assert.Equal(0, scores.Ks, 1e-15);
    }

    [Fact]
    public void An_empty_bin_gives_a_large_but_finite_psi()
    {
        var scores = DriftStatistics.Compare([0.5, 0.5, 0.0], [0L, 50, 50]);

        Assert.True(double.IsFinite(scores.Psi));
        Assert.True(scores.Psi > 3);
        Assert.Equal(0.5, scores.Ks, 1e-15);
    }

    [Fact]
    public void Js_distance_stays_below_the_square_root_of_ln_2()
    {
        var scores = DriftStatistics.Compare([1.0, 0.0], [0L, 1000]);

        Assert.InRange(scores.Js, 0.8, Math.Sqrt(Math.Log(2)));
        Assert.Equal(1.0, scores.Ks, 1e-15);
    }

    [Fact]
    public void Psi_matches_its_formula_with_the_epsilon()
    {
        double[] b = [0.2, 0.8];
        double[] c = [0.6, 0.4];
        const double E = DriftStatistics.Epsilon;
        var sb = (0.2 + E, 0.8 + E, 1 + (2 * E));
        var (b0, b1) = (sb.Item1 / sb.Item3, sb.Item2 / sb.Item3);
        var (c0, c1) = ((0.6 + E) / (1 + (2 * E)), (0.4 + E) / (1 + (2 * E)));

        var psi = DriftStatistics.Psi(b, c);

        Assert.Equal(((c0 - b0) * Math.Log(c0 / b0)) + ((c1 - b1) * Math.Log(c1 / b1)), psi, 1e-15);
    }

    [Fact]
    public void An_empty_window_has_no_statistics()
    {
        Assert.Throws<ArgumentException>(() => DriftStatistics.Compare([0.5, 0.5], [0L, 0]));
        Assert.Throws<ArgumentException>(() => DriftStatistics.Compare([0.5, 0.5], [1L, 0, 0]));
    }
}
