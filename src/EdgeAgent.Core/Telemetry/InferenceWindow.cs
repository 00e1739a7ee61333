namespace EdgeAgent.Core.Telemetry;

/// <summary>Counts and times the inferences of one model in one window. Thread-safe and lock-free on the hot path.</summary>
public sealed class InferenceWindow
{
    private long _requests;
    private long _errors;
    private long _nonFinite;
    private OutputValues? _outputs;
    private OutputValues? _inputs;

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

    /// <summary>
    /// Adds one response's statistics of output <paramref name="index"/> (of <paramref name="names"/>, the model's outputs
    /// in order): <paramref name="count"/> finite elements with their sum, minimum and maximum. The first call of a window
    /// sets up the accumulators; later calls allocate nothing.
    /// </summary>
    public void RecordOutput(IReadOnlyList<string> names, int index, long count, double sum, double min, double max)
    {
        ArgumentNullException.ThrowIfNull(names);
        var outputs = Volatile.Read(ref _outputs);
        if (outputs is null)
        {
            Interlocked.CompareExchange(ref _outputs, new OutputValues(names), null);
            outputs = Volatile.Read(ref _outputs)!;
        }

        if ((uint)index < (uint)outputs.Values.Length)
        {
            outputs.Values[index].Add(count, sum, min, max);
        }
    }

    /// <summary>As <see cref="RecordOutput"/>, for input <paramref name="index"/> of the model's inputs <paramref name="names"/>.</summary>
    public void RecordInput(IReadOnlyList<string> names, int index, long count, double sum, double min, double max)
    {
        ArgumentNullException.ThrowIfNull(names);
        var inputs = Volatile.Read(ref _inputs);
        if (inputs is null)
        {
            Interlocked.CompareExchange(ref _inputs, new OutputValues(names), null);
            inputs = Volatile.Read(ref _inputs)!;
        }

        if ((uint)index < (uint)inputs.Values.Length)
        {
            inputs.Values[index].Add(count, sum, min, max);
        }
    }

    /// <summary>Per input (model order) the statistics of its values in this window; null when no request was observed.</summary>
    public IReadOnlyList<ValueSummary>? Inputs() => Summaries(Volatile.Read(ref _inputs));

    /// <summary>Per output (model order) the statistics of its values in this window; null when no response was observed.</summary>
    public IReadOnlyList<ValueSummary>? Outputs() => Summaries(Volatile.Read(ref _outputs));

    private static ValueSummary[]? Summaries(OutputValues? outputs)
    {
        if (outputs is null)
        {
            return null;
        }

        var list = new ValueSummary[outputs.Values.Length];
        for (var i = 0; i < list.Length; i++)
        {
            list[i] = outputs.Values[i].Summarize(outputs.Names[i]);
        }

        return list;
    }

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
        Inputs = Inputs(),
        Outputs = Outputs(),
    };

    private sealed class OutputValues
    {
        public OutputValues(IReadOnlyList<string> names)
        {
            Names = names;
            Values = new ValueAccumulator[names.Count];
            for (var i = 0; i < Values.Length; i++)
            {
                Values[i] = new ValueAccumulator();
            }
        }

        public IReadOnlyList<string> Names { get; }

        public ValueAccumulator[] Values { get; }
    }
}
