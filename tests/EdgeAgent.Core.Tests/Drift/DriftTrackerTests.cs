using System.Text.Json;
using EdgeAgent.Core.Drift;

namespace EdgeAgent.Core.Tests.Drift;

public sealed class DriftTrackerTests
{
    // One feature with two equal bins around 0: a window's share above 0 moves KS directly (ks = |share − 0.5|).
    private static readonly DriftBaseline Baseline = new()
    {
        Samples = 1000,
        Features = [new DriftDistribution { Name = "x[0]", Input = "x", Index = 0, Statistic = DriftStatistic.Value, Edges = [0.0], Proportions = [0.5, 0.5] }],
        Outputs = [],
        Thresholds = new DriftThresholds { Psi = new(100, 100), Js = new(100, 100), Ks = new(0.20, 0.10) },
    };

    private static DriftWindowCounts Window(int below, int above) => new([new DriftBinCounts([below, above], 0)], []);

    [Fact]
    public void A_window_at_the_raise_threshold_raises_drift()
    {
        var tracker = new DriftTracker(Baseline);

        var report = tracker.Evaluate(Window(30, 70)); // ks 0.20

        Assert.Equal(DriftState.Drift, report.State);
        Assert.Equal(DriftState.Ok, report.PreviousState);
        Assert.True(report.Changed);
        Assert.Equal(DriftState.Drift, tracker.State);
        Assert.Equal(DriftState.Drift, report.Features[0].State);
    }

    [Fact]
    public void Drift_holds_between_the_clear_and_raise_thresholds()
    {
        var tracker = new DriftTracker(Baseline);
        tracker.Evaluate(Window(20, 80));

        var report = tracker.Evaluate(Window(35, 65)); // ks 0.15: below raise, not below clear

        Assert.Equal(DriftState.Drift, report.State);
        Assert.False(report.Changed);
    }

    [Fact]
    public void Ok_holds_between_the_clear_and_raise_thresholds()
    {
        var tracker = new DriftTracker(Baseline);

        var report = tracker.Evaluate(Window(35, 65));

        Assert.Equal(DriftState.Ok, report.State);
        Assert.False(report.Changed);
    }

    [Fact]
    public void Drift_clears_only_below_the_clear_threshold()
    {
        var tracker = new DriftTracker(Baseline);
        tracker.Evaluate(Window(20, 80));

        var report = tracker.Evaluate(Window(45, 55)); // ks 0.05

        Assert.Equal(DriftState.Ok, report.State);
        Assert.Equal(DriftState.Drift, report.PreviousState);
        Assert.True(report.Changed);
    }

    [Fact]
    public void A_window_with_too_few_values_is_insufficient_and_changes_nothing()
    {
        var tracker = new DriftTracker(Baseline, minSamples: 50);
        tracker.Evaluate(Window(20, 80));

        var report = tracker.Evaluate(Window(49, 0));

        Assert.Equal(DriftState.Insufficient, report.State);
        Assert.Equal(DriftState.Insufficient, report.Features[0].State);
        Assert.False(report.Changed);
        Assert.Equal(DriftState.Drift, tracker.State);
        Assert.Equal(1.0 - 0.5, report.Features[0].Ks!.Value, 1e-12);
    }

    [Fact]
    public void An_empty_window_reports_no_statistics()
    {
        var report = new DriftTracker(Baseline).Evaluate(Window(0, 0));

        Assert.Equal(DriftState.Insufficient, report.State);
        Assert.Null(report.Features[0].Psi);
        Assert.Equal(0, report.Count);
    }

    [Fact]
    public void The_model_is_in_drift_while_any_entry_is()
    {
        var two = Baseline with
        {
            Outputs = [new DriftDistribution { Name = "label", Output = "label", Statistic = DriftStatistic.Class, Classes = [0, 1], Proportions = [0.5, 0.5] }],
        };
        var tracker = new DriftTracker(two);

        var report = tracker.Evaluate(new DriftWindowCounts([new DriftBinCounts([50, 50], 0)], [new DriftBinCounts([10, 90, 0], 0)]));

        Assert.Equal(DriftState.Ok, report.Features[0].State);
        Assert.Equal(DriftState.Drift, report.Outputs[0].State);
        Assert.Equal(DriftState.Drift, report.State);
    }

    // Three numeric bins (−∞, 0], (0, 1], (1, ∞) on x[0]; classes 0, 1, 2 (and "other") on label.
    private static readonly DriftBaseline Binned = new()
    {
        Samples = 100,
        Features = [new DriftDistribution { Name = "x[0]", Input = "x", Index = 0, Statistic = DriftStatistic.Value, Edges = [0.0, 1.0], Proportions = [0.2, 0.5, 0.3] }],
        Outputs = [new DriftDistribution { Name = "label", Output = "label", Statistic = DriftStatistic.Class, Classes = [0, 1, 2], Proportions = [0.6, 0.3, 0.1] }],
    };

    [Fact]
    public void A_window_report_carries_the_count_of_each_baseline_bin()
    {
        var recorder = new DriftRecorder(Binned);
        // One value per sample: −1 and 0 fall in (−∞, 0], 0.5 and 1 in (0, 1], 2, 3 and 4 in (1, ∞).
        recorder.Input("x")!.AddSamples<float>([-1f, 0f, 0.5f, 1f, 2f, 3f, 4f], samples: 7);

        var report = new DriftTracker(Binned, minSamples: 1).Evaluate(recorder.TakeWindow());

        var x = report.Features[0];
        Assert.Equal([2L, 2L, 3L], x.Counts);
        Assert.Equal(Binned.Features[0].Proportions.Count, x.Counts!.Count);
        Assert.Equal(report.Count, x.Counts.Sum()); // one value per sample: the window's count
        Assert.Null(x.Other);
        Assert.Null(report.Outputs[0].Counts); // no output value in this window
    }

    [Fact]
    public void A_class_entry_counts_each_class_and_apart_the_values_the_baseline_never_saw()
    {
        var recorder = new DriftRecorder(Binned);
        recorder.Output("label")!.AddSamples<long>([0L, 1L, 1L, 2L, 7L, -3L], samples: 6);
        recorder.Input("x")!.AddSamples<double>([double.NaN, 0.5], samples: 2);

        var report = new DriftTracker(Binned, minSamples: 1).Evaluate(recorder.TakeWindow());

        var label = report.Outputs[0];
        Assert.Equal([1L, 2L, 1L], label.Counts);
        Assert.Equal(Binned.Outputs[0].Proportions.Count, label.Counts!.Count);
        Assert.Equal(2, label.Other);
        Assert.Equal(label.Count, label.Counts.Sum() + label.Other);
        // NaN is never binned: it is not in the counts.
        Assert.Equal([0L, 1L, 0L], report.Features[0].Counts);
        Assert.Equal(1, report.Features[0].NaN);
    }

    [Fact]
    public void The_counts_are_written_to_json_and_null_for_an_empty_window()
    {
        var recorder = new DriftRecorder(Binned);
        recorder.Output("label")!.AddSamples<long>([1L, 9L], samples: 2);

        var report = new DriftTracker(Binned, minSamples: 1).Evaluate(recorder.TakeWindow());
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(new { features = report.Features, outputs = report.Outputs }, CoreJson.Options));

        var x = json.RootElement.GetProperty("features")[0];
        Assert.Equal(JsonValueKind.Null, x.GetProperty("counts").ValueKind);
        Assert.False(x.TryGetProperty("other", out _));
        var label = json.RootElement.GetProperty("outputs")[0];
        Assert.Equal([0L, 1L, 0L], label.GetProperty("counts").EnumerateArray().Select(c => c.GetInt64()));
        Assert.Equal(1, label.GetProperty("other").GetInt64());
    }
}
