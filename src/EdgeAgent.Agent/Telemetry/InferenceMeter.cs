using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using EdgeAgent.Agent.Serving;
using EdgeAgent.Core.Deployment;
using EdgeAgent.Core.Telemetry;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeAgent.Agent.Telemetry;

/// <summary>
/// Counts and times inferences per model into the current window (lock-free), and keeps running totals.
/// The window service swaps windows out; the hot path never waits on it. As an <see cref="IOutputObserver"/> it also folds
/// each response's output values into the window's statistics (count, mean, min, max of the finite values of each numeric
/// tensor output): one pass over the output elements, no allocation after the first response of a model version.
/// </summary>
public sealed class InferenceMeter : IOutputObserver, IInferenceTap
{
    private readonly ConcurrentDictionary<string, ModelCounters> _models = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public InferenceMeter(TimeProvider time) => _time = time;

    /// <summary>
    /// Counts one served request. Only models the reconcile loop tracks are counted; a request that was still running
    /// on the previous version when a new one activated counts in the current window (it never switches it back).
    /// </summary>
    public void RecordSuccess(string model, double micros)
    {
        if (_models.TryGetValue(model, out var counters))
        {
            Interlocked.Increment(ref counters.Total);
            counters.Window.RecordSuccess(micros);
            Volatile.Read(ref counters.Probation)?.RecordSuccess(micros);
        }
    }

    public void RecordError(string model)
    {
        if (_models.TryGetValue(model, out var counters))
        {
            Interlocked.Increment(ref counters.Total);
            Interlocked.Increment(ref counters.TotalErrors);
            counters.Window.RecordError();
            Volatile.Read(ref counters.Probation)?.RecordError();
        }
    }

    /// <summary>Counts a served response that held NaN or Inf (in addition to its success).</summary>
    public void RecordNonFinite(string model)
    {
        if (_models.TryGetValue(model, out var counters))
        {
            counters.Window.RecordNonFinite();
            Volatile.Read(ref counters.Probation)?.RecordNonFinite();
        }
    }

    public bool Observes(string model) => _models.ContainsKey(model);

    /// <summary>As an inference tap: the request's input statistics for the metrics window.</summary>
    public bool Watches(string model) => _models.ContainsKey(model);

    /// <summary>Folds each numeric input's finite values (count, sum, min, max) into the model's window; no allocation after the window's first request.</summary>
    public void Observe(InferenceData data)
    {
        if (!_models.TryGetValue(data.Model, out var counters))
        {
            return;
        }

        var window = Volatile.Read(ref counters.Window);
        var names = data.InputNames;
        for (var i = 0; i < data.InputCount; i++)
        {
            var view = data.Input(i);
            var stats = view.Type switch
            {
                TensorElementType.Float => Fold(MemoryMarshal.Cast<byte, float>(view.Bytes)),
                TensorElementType.Double => Fold(MemoryMarshal.Cast<byte, double>(view.Bytes)),
                TensorElementType.Int64 => Fold(MemoryMarshal.Cast<byte, long>(view.Bytes)),
                TensorElementType.Int32 => Fold(MemoryMarshal.Cast<byte, int>(view.Bytes)),
                _ => default,
            };
            window.RecordInput(names, i, stats.Count, stats.Sum, stats.Min, stats.Max);
        }
    }

    public void Observe(string model, IReadOnlyList<string> names, IReadOnlyCollection<OrtValue> values)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (values is not IReadOnlyList<OrtValue> list || !_models.TryGetValue(model, out var counters))
        {
            return;
        }

        var layout = Volatile.Read(ref counters.Layout);
        if (layout is null || !ReferenceEquals(layout.Names, names) || layout.Kinds.Length != list.Count)
        {
            // Once per model version: the output names array belongs to the loaded model.
            layout = OutputLayout.Of(names, list);
            Volatile.Write(ref counters.Layout, layout);
        }

        var window = Volatile.Read(ref counters.Window);
        for (var i = 0; i < layout.Kinds.Length; i++)
        {
            var value = list[i];
            var stats = layout.Kinds[i] switch
            {
                OutputKind.Float => Fold(value.GetTensorDataAsSpan<float>()),
                OutputKind.Double => Fold(value.GetTensorDataAsSpan<double>()),
                OutputKind.Int64 => Fold(value.GetTensorDataAsSpan<long>()),
                OutputKind.Int32 => Fold(value.GetTensorDataAsSpan<int>()),
                _ => default,
            };
            window.RecordOutput(names, i, stats.Count, stats.Sum, stats.Min, stats.Max);
        }
    }

    private static Folded Fold(ReadOnlySpan<float> span)
    {
        var f = Folded.Empty;
        foreach (var v in span)
        {
            if (float.IsFinite(v))
            {
                f.Add(v);
            }
        }

        return f;
    }

    private static Folded Fold(ReadOnlySpan<double> span)
    {
        var f = Folded.Empty;
        foreach (var v in span)
        {
            if (double.IsFinite(v))
            {
                f.Add(v);
            }
        }

        return f;
    }

    private static Folded Fold(ReadOnlySpan<long> span)
    {
        var f = Folded.Empty;
        foreach (var v in span)
        {
            f.Add(v);
        }

        return f;
    }

    private static Folded Fold(ReadOnlySpan<int> span)
    {
        var f = Folded.Empty;
        foreach (var v in span)
        {
            f.Add(v);
        }

        return f;
    }

    /// <summary>The figures of the version serving now, as the baseline a successor's probation is judged against.</summary>
    public ProbationStats Baseline(string model)
    {
        if (!_models.TryGetValue(model, out var c))
        {
            return new ProbationStats(0, 0, 0, 0);
        }

        var window = c.LastWindow is { Requests: > 0 } last ? last : c.Window;
        return new ProbationStats(Interlocked.Read(ref c.Total), Interlocked.Read(ref c.TotalErrors), window.NonFinite, window.Latency.Quantile(0.95) / 1000);
    }

    /// <summary>Starts (or restarts) counting the requests of a model's version in probation.</summary>
    public void StartProbation(string model, string version)
    {
        var counters = For(model, version);
        Volatile.Write(ref counters.Probation, new InferenceWindow(model, version, _time.GetUtcNow()));
    }

    public ProbationStats? ProbationFigures(string model) =>
        _models.TryGetValue(model, out var c) && Volatile.Read(ref c.Probation) is { } p
            ? new ProbationStats(p.Requests, p.Errors, p.NonFinite, p.Latency.Quantile(0.95) / 1000)
            : null;

    public void EndProbation(string model)
    {
        if (_models.TryGetValue(model, out var c))
        {
            Volatile.Write(ref c.Probation, null);
        }
    }

    /// <summary>Starts counting a model version (called at activation), so that windows without traffic are reported too.</summary>
    public void Track(string model, string version) => For(model, version);

    public void Untrack(string model) => _models.TryRemove(model, out _);

    private ModelCounters For(string model, string version)
    {
        var counters = _models.GetOrAdd(model, static (m, state) => new ModelCounters(new InferenceWindow(m, state.version, state.time.GetUtcNow())), (version, time: _time));
        var window = counters.Window;
        if (window.Version != version
            && Interlocked.CompareExchange(ref counters.Window, new InferenceWindow(model, version, _time.GetUtcNow()), window) == window)
        {
            // A new version serves: its window starts now; the old version's partial window is closed with the next tick.
            counters.Retired.Enqueue(window);
        }

        return counters;
    }

    /// <summary>Closes the current window of every tracked model and opens the next one.</summary>
    public IReadOnlyList<InferenceWindow> CloseWindows()
    {
        var now = _time.GetUtcNow();
        var closed = new List<InferenceWindow>();
        foreach (var (name, counters) in _models)
        {
            while (counters.Retired.TryDequeue(out var retired))
            {
                closed.Add(retired);
            }

            InferenceWindow current;
            do
            {
                current = counters.Window;
            }
            while (Interlocked.CompareExchange(ref counters.Window, new InferenceWindow(name, current.Version, now), current) != current);

            closed.Add(current);
            counters.LastWindow = closed[^1];
            counters.LastWindowEnd = now;
        }

        return closed;
    }

    public IReadOnlyList<ModelTotals> Totals()
    {
        var list = new List<ModelTotals>();
        foreach (var (name, c) in _models)
        {
            var last = c.LastWindow;
            double rate = 0;
            if (last is not null && c.LastWindowEnd > last.Start)
            {
                rate = last.Requests / (c.LastWindowEnd - last.Start).TotalSeconds;
            }

            list.Add(new ModelTotals(
                name,
                c.Window.Version,
                Interlocked.Read(ref c.Total),
                Interlocked.Read(ref c.TotalErrors),
                Math.Round(rate, 3),
                last is null ? 0 : Math.Round(last.Latency.Quantile(0.5) / 1000, 4),
                last is null ? 0 : Math.Round(last.Latency.Quantile(0.95) / 1000, 4),
                last is null ? 0 : Math.Round(last.Latency.Quantile(0.99) / 1000, 4)));
        }

        return list;
    }

    private enum OutputKind
    {
        None,
        Float,
        Double,
        Int64,
        Int32,
    }

    private struct Folded
    {
        public long Count;
        public double Sum;
        public double Min;
        public double Max;

        public static Folded Empty => new() { Min = double.PositiveInfinity, Max = double.NegativeInfinity };

        public void Add(double v)
        {
            Count++;
            Sum += v;
            Min = v < Min ? v : Min;
            Max = v > Max ? v : Max;
        }
    }

    /// <summary>Which outputs of a model version are folded, and how (read once from the first response's values).</summary>
    private sealed class OutputLayout(IReadOnlyList<string> names, OutputKind[] kinds)
    {
        public IReadOnlyList<string> Names { get; } = names;

        public OutputKind[] Kinds { get; } = kinds;

        public static OutputLayout Of(IReadOnlyList<string> names, IReadOnlyList<OrtValue> values)
        {
            var kinds = new OutputKind[Math.Min(names.Count, values.Count)];
            for (var i = 0; i < kinds.Length; i++)
            {
                kinds[i] = !values[i].IsTensor ? OutputKind.None : values[i].GetTensorTypeAndShape().ElementDataType switch
                {
                    TensorElementType.Float => OutputKind.Float,
                    TensorElementType.Double => OutputKind.Double,
                    TensorElementType.Int64 => OutputKind.Int64,
                    TensorElementType.Int32 => OutputKind.Int32,
                    _ => OutputKind.None,
                };
            }

            return new OutputLayout(names, kinds);
        }
    }

    private sealed class ModelCounters(InferenceWindow window)
    {
        public OutputLayout? Layout;
        public InferenceWindow Window = window;
        public readonly ConcurrentQueue<InferenceWindow> Retired = new();
        public long Total;
        public long TotalErrors;
        public InferenceWindow? LastWindow;
        public InferenceWindow? Probation;
        public DateTimeOffset LastWindowEnd;
    }
}
