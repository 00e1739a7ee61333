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
}
