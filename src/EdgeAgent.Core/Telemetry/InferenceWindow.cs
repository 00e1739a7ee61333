namespace EdgeAgent.Core.Telemetry;

/// <summary>Counts and times the inferences of one model in one window. Thread-safe and lock-free on the hot path.</summary>
public sealed class InferenceWindow
{
    private long _requests;
    private long _errors;
    private long _nonFinite;

    public InferenceWindow(string model, string version, DateTimeOffset start)
    {
        Model = model;
        Version = version;
        Start = start;
    }

    public string Model { get; }

    public string Version { get; }

    public DateTimeOffset Start { get; }

    public LatencyHistogram Latency { get; } = new();

    public long Requests => Interlocked.Read(ref _requests);

    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>Served responses that held a NaN or infinite output value.</summary>
    public long NonFinite => Interlocked.Read(ref _nonFinite);

    public void RecordNonFinite() => Interlocked.Increment(ref _nonFinite);

    public void RecordSuccess(double micros)
    {
        Interlocked.Increment(ref _requests);
        Latency.Record(micros);
    }

    public void RecordError()
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Increment(ref _errors);
    }

    public MetricsRecord Close(long seq, string deviceId, DateTimeOffset end) => new()
    {
        Seq = seq,
        DeviceId = deviceId,
        Model = Model,
        Version = Version,
        WindowStart = Start,
        WindowEnd = end,
        Count = Requests,
        Errors = Errors,
        NonFinite = NonFinite,
        LatencyMs = new LatencySummary(
            Math.Round(Latency.Quantile(0.50) / 1000, 4),
            Math.Round(Latency.Quantile(0.95) / 1000, 4),
            Math.Round(Latency.Quantile(0.99) / 1000, 4),
            Math.Round(Latency.MeanMicros / 1000, 4),
            Math.Round(Latency.MaxMicros / 1000, 4)),
    };
}
