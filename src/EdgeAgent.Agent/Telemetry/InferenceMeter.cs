using System.Collections.Concurrent;
using EdgeAgent.Core.Deployment;
using EdgeAgent.Core.Telemetry;

namespace EdgeAgent.Agent.Telemetry;

/// <summary>
/// Counts and times inferences per model into the current window (lock-free), and keeps running totals.
/// The window service swaps windows out; the hot path never waits on it.
/// </summary>
public sealed class InferenceMeter
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

    private sealed class ModelCounters(InferenceWindow window)
    {
        public InferenceWindow Window = window;
        public readonly ConcurrentQueue<InferenceWindow> Retired = new();
        public long Total;
        public long TotalErrors;
        public InferenceWindow? LastWindow;
        public InferenceWindow? Probation;
        public DateTimeOffset LastWindowEnd;
    }
}
