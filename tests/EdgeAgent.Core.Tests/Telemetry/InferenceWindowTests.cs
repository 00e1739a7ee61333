using EdgeAgent.Core.Telemetry;

namespace EdgeAgent.Core.Tests.Telemetry;

public sealed class InferenceWindowTests
{
    private static readonly DateTimeOffset Start = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Closed_window_counts_errors_as_requests_and_reports_latency_in_milliseconds()
    {
        var window = new InferenceWindow("vibration", "1.0.0", Start);
        window.RecordSuccess(2000);
        window.RecordSuccess(2000);
        window.RecordError();

        var record = window.Close(seq: 7, deviceId: "dev-1", end: Start.AddSeconds(10));

        Assert.Equal(7, record.Seq);
        Assert.Equal("dev-1", record.DeviceId);
        Assert.Equal(("vibration", "1.0.0"), (record.Model, record.Version));
        Assert.Equal((Start, Start.AddSeconds(10)), (record.WindowStart, record.WindowEnd));
        Assert.Equal(3, record.Count);
        Assert.Equal(1, record.Errors);
        Assert.Equal(2.0, record.LatencyMs.P50);
        Assert.Equal(2.0, record.LatencyMs.Mean);
        Assert.Equal(2.0, record.LatencyMs.Max);
    }

    [Fact]
    public void Output_statistics_from_many_threads_add_up()
    {
        var window = new InferenceWindow("vibration", "1.0.0", Start);
        string[] names = ["score"];
        Parallel.For(0, 1000, i => window.RecordOutput(names, 0, 2, i * 2, i, i));

        var score = Assert.Single(window.Close(1, "dev-1", Start.AddSeconds(1)).Outputs!);

        Assert.Equal(("score", 2000L, 499.5, 0.0, 999.0), (score.Name, score.Count, score.Mean, score.Min, score.Max));
    }
}
