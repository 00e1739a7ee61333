using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text.Json;
using EdgeAgent.Agent.Capture;
using EdgeAgent.Agent.Json;
using EdgeAgent.Agent.Options;
using EdgeAgent.Agent.Serving;
using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Core;
using EdgeAgent.Core.Drift;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeAgent.Agent.Drift;

/// <summary>
/// Streaming drift detection on the device (docs/drift.md). For each serving version whose bundle carries a baseline,
/// every served request's monitored inputs and outputs go into lock-free histograms (an allocation-free update per
/// value, on the request thread). Once per <c>Drift:WindowSeconds</c> the counts are taken, scored against the baseline
/// (PSI, Jensen-Shannon distance, binned KS) with hysteresis, and a <c>window</c> report goes to the outbox for
/// <c>{p}/devices/{id}/drift</c>; a change of the model's state (ok → drift, drift → ok) adds an <c>alert</c>.
/// </summary>
public sealed class DriftMonitor : BackgroundService, IInferenceTap
{
    public const string Kind = "drift";

    private readonly ConcurrentDictionary<string, ModelDrift> _models = new(StringComparer.Ordinal);
    private readonly DriftOptions _options;
    private readonly Outbox _outbox;
    private readonly ModelDriftStates _states;
    private readonly TimeProvider _time;
    private readonly ILogger<DriftMonitor> _logger;
    private readonly string _deviceId;
    private long _alerts;

    public DriftMonitor(ModelCatalog catalog, IOptions<DriftOptions> options, IOptions<AgentOptions> agent, Outbox outbox, ModelDriftStates states, TimeProvider time, ILogger<DriftMonitor> logger)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(agent);
        _options = options.Value;
        _outbox = outbox;
        _states = states;
        _time = time;
        _logger = logger;
        _deviceId = agent.Value.DeviceId;
        if (_options.Enabled)
        {
            catalog.Activated += Track;
            catalog.Unloaded += Untrack;
            foreach (var model in catalog.Active)
            {
                Track(model);
            }
        }
    }

    /// <summary>Alerts (state changes) raised since start.</summary>
    public long Alerts => Interlocked.Read(ref _alerts);

    public bool Watches(string model) => _models.ContainsKey(model);

    public void Observe(InferenceData data)
    {
        if (!_models.TryGetValue(data.Model, out var model) || !string.Equals(model.Version, data.Version, StringComparison.Ordinal))
        {
            return;
        }

        for (var i = 0; i < model.InputTaps.Length && i < data.InputCount; i++)
        {
            if (model.InputTaps[i] is { } tap)
            {
                Feed(tap, data.Input(i));
            }
        }

        for (var i = 0; i < model.OutputTaps.Length && i < data.OutputCount; i++)
        {
            if (model.OutputTaps[i] is { } tap)
            {
                Feed(tap, data.Output(i));
            }
        }
    }

    /// <summary>Per monitored model: its drift state, since when, and the last window's scores.</summary>
    public IReadOnlyList<DriftModelStatus> Status() =>
        [.. _models.Values.OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => new DriftModelStatus(
            m.Name,
            m.Version,
            Name(m.Tracker.State),
            m.Since,
            m.Last is { } last ? new DriftLastWindow(Name(last.State), last.Count, m.LastEnd) : null))];

    /// <summary>Scores every monitored model's window now (the background loop does this every <c>Drift:WindowSeconds</c>).</summary>
    public void CloseWindows()
    {
        var end = _time.GetUtcNow();
        foreach (var model in _models.Values)
        {
            DriftWindowReport report;
            lock (model)
            {
                report = model.Tracker.Evaluate(model.Recorder.TakeWindow());
                model.Last = report;
                model.LastEnd = end;
                if (report.Changed)
                {
                    model.Since = end;
                }
            }

            _states.Set(model.Name, model.Tracker.State == DriftState.Drift);
            var start = model.WindowStart;
            model.WindowStart = end;
            _outbox.Enqueue(OutboxClass.Drift, Kind, seq => Payload(seq, "window", model, report, start, end));
            if (report.Changed)
            {
                Interlocked.Increment(ref _alerts);
                Log.DriftStateChanged(_logger, model.Name, model.Version, Name(report.PreviousState), Name(report.State), Worst(report));
                _outbox.Enqueue(OutboxClass.Alert, Kind, seq => Payload(seq, "alert", model, report, start, end));
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.WindowSeconds), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    CloseWindows();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // E.g. a full disk while queueing the report: this window is lost (and logged); serving goes on.
                    Log.ServiceError(_logger, nameof(DriftMonitor), ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private void Track(OnnxModel model)
    {
        if (model.DriftBaseline is not { } baseline)
        {
            Untrack(model.Name);
            return;
        }

        var recorder = new DriftRecorder(baseline);
        var inputs = model.Inputs.Select(i => recorder.Input(i.Name)).ToArray();
        var outputs = model.Outputs.Select(o => recorder.Output(o.Name)).ToArray();
        _models[model.Name] = new ModelDrift(model.Name, model.Version, recorder, new DriftTracker(baseline, _options.MinSamples), inputs, outputs, _time.GetUtcNow());
        _states.Set(model.Name, false);
    }

    private void Untrack(string name)
    {
        if (_models.TryRemove(name, out _))
        {
            _states.Set(name, false);
        }
    }

    /// <summary>Counts every sample of a batch.</summary>
    private static void Feed(DriftTap tap, TensorView view)
    {
        // One sample per row along the first axis (as the baseline was built); a scalar is one sample.
        var samples = view.Shape.Length == 0 ? 1 : (int)view.Shape[0];
        if (samples <= 0 || view.Count == 0 || view.Count % samples != 0)
        {
            return;
        }

        var bytes = view.Bytes;
        switch (view.Type)
        {
            case TensorElementType.Float:
                tap.AddSamples(MemoryMarshal.Cast<byte, float>(bytes), samples);
                break;
            case TensorElementType.Double:
                tap.AddSamples(MemoryMarshal.Cast<byte, double>(bytes), samples);
                break;
            case TensorElementType.Float16:
                tap.AddSamples(MemoryMarshal.Cast<byte, Half>(bytes), samples);
                break;
            case TensorElementType.Int8:
                tap.AddSamples(MemoryMarshal.Cast<byte, sbyte>(bytes), samples);
                break;
            case TensorElementType.UInt8:
            case TensorElementType.Bool:
                tap.AddSamples(bytes, samples);
                break;
            case TensorElementType.Int16:
                tap.AddSamples(MemoryMarshal.Cast<byte, short>(bytes), samples);
                break;
            case TensorElementType.UInt16:
                tap.AddSamples(MemoryMarshal.Cast<byte, ushort>(bytes), samples);
                break;
            case TensorElementType.Int32:
                tap.AddSamples(MemoryMarshal.Cast<byte, int>(bytes), samples);
                break;
            case TensorElementType.UInt32:
                tap.AddSamples(MemoryMarshal.Cast<byte, uint>(bytes), samples);
                break;
            case TensorElementType.Int64:
                tap.AddSamples(MemoryMarshal.Cast<byte, long>(bytes), samples);
                break;
            case TensorElementType.UInt64:
                tap.AddSamples(MemoryMarshal.Cast<byte, ulong>(bytes), samples);
                break;
            default:
                break;
        }
    }

    private DriftRecord Payload(long seq, string kind, ModelDrift model, DriftWindowReport report, DateTimeOffset start, DateTimeOffset end) =>
        new(
            seq,
            kind,
            _deviceId,
            model.Name,
            model.Version,
            start,
            end,
            report.Count,
            Name(report.State),
            kind == "alert" ? Name(report.PreviousState) : null,
            report.Features,
            report.Outputs);

    private static string Name(DriftState state) => state switch
    {
        DriftState.Drift => "drift",
        DriftState.Insufficient => "insufficient",
        _ => "ok",
    };

    /// <summary>The entry with the highest PSI, for the log line.</summary>
    private static string Worst(DriftWindowReport report) =>
        report.Features.Concat(report.Outputs).Where(e => e.Psi is not null).OrderByDescending(e => e.Psi).FirstOrDefault() is { } worst
            ? $"{worst.Name} psi {worst.Psi:0.###} js {worst.Js:0.###} ks {worst.Ks:0.###}"
            : "no scores";

    private sealed class ModelDrift(string name, string version, DriftRecorder recorder, DriftTracker tracker, DriftTap?[] inputTaps, DriftTap?[] outputTaps, DateTimeOffset start)
    {
        public string Name { get; } = name;

        public string Version { get; } = version;

        public DriftRecorder Recorder { get; } = recorder;

        public DriftTracker Tracker { get; } = tracker;

        public DriftTap?[] InputTaps { get; } = inputTaps;

        public DriftTap?[] OutputTaps { get; } = outputTaps;

        public DateTimeOffset WindowStart { get; set; } = start;

        public DateTimeOffset Since { get; set; } = start;

        public DriftWindowReport? Last { get; set; }

        public DateTimeOffset LastEnd { get; set; }
    }
}
