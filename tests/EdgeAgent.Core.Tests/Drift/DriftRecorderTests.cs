using EdgeAgent.Core.Drift;

namespace EdgeAgent.Core.Tests.Drift;

public sealed class DriftRecorderTests
{
    private static DriftBaseline Baseline() => new()
    {
        Samples = 4,
        Features =
        [
            new DriftDistribution { Name = "x[1]", Input = "x", Index = 1, Statistic = DriftStatistic.Value, Edges = [0.0], Proportions = [0.5, 0.5] },
            new DriftDistribution { Name = "x:mean", Input = "x", Statistic = DriftStatistic.Mean, Edges = [1.0], Proportions = [0.5, 0.5] },
            new DriftDistribution { Name = "x:std", Input = "x", Statistic = DriftStatistic.Std, Edges = [1.0], Proportions = [0.5, 0.5] },
        ],
        Outputs = [new DriftDistribution { Name = "label", Output = "label", Statistic = DriftStatistic.Class, Classes = [0, 1], Proportions = [0.5, 0.5] }],
    };

    [Fact]
    public void Each_sample_feeds_its_value_mean_std_and_classes()
    {
        var recorder = new DriftRecorder(Baseline());

        // Two samples of 3 floats: [0, -1, 4] (x[1] = -1, mean 1, std 2.16) and [1, 2, 3] (x[1] = 2, mean 2, std 0.82).
        recorder.Input("x")!.AddSamples<float>([0f, -1f, 4f, 1f, 2f, 3f], samples: 2);
        recorder.Output("label")!.AddSamples<long>([1L, 5L], samples: 2);
        var window = recorder.TakeWindow();

        Assert.Equal([1L, 1L], window.Features[0].Bins);
        Assert.Equal([1L, 1L], window.Features[1].Bins);
        Assert.Equal([1L, 1L], window.Features[2].Bins);
        Assert.Equal([0L, 1L, 1L], window.Outputs[0].Bins);
    }

    [Fact]
    public void Tensors_nothing_measures_have_no_tap()
    {
        var recorder = new DriftRecorder(Baseline());

        Assert.Null(recorder.Input("label"));
        Assert.Null(recorder.Output("probabilities"));
    }

    [Fact]
    public void An_index_beyond_a_short_sample_is_skipped()
    {
        var recorder = new DriftRecorder(Baseline());

        recorder.Input("x")!.AddSample<double>([5.0]);

        Assert.Equal(0, recorder.TakeWindow().Features[0].Binned);
    }

    [Fact]
    public void Population_standard_deviation_like_numpy()
    {
        Assert.Equal(Math.Sqrt(14.0 / 3.0), DriftSummaries.StandardDeviation<double>([0, -1, 4]), 1e-12);
        Assert.Equal(1.0, DriftSummaries.Mean<int>([0, 1, 2]));
        Assert.True(double.IsNaN(DriftSummaries.Mean<double>([])));
    }
}
