using System.Collections.Frozen;
using System.Device.Gpio;
using EdgeAgent.Agent.Deployment;
using EdgeAgent.Agent.Options;
using EdgeAgent.Agent.Serving;
using EdgeAgent.Core.Deployment;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeAgent.Agent.Hardware;

/// <summary>
/// <c>Gpio:Rules</c>: evaluates each served response of a watched model and drives the rule's pin to its level, holding it
/// for <c>HoldSeconds</c> after the last match. Rule pins go to their safe (inactive) level on unload, rollback and stop,
/// and on a watchdog failure (the reconcile loop stalled): then they stay safe, whatever the model answers, until the loop
/// makes progress again.
/// </summary>
public sealed class GpioRules : BackgroundService, IOutputObserver
{
    private readonly GpioPort _port;
    private readonly DeploymentStore _store;
    private readonly ReconcileWatchdog _watchdog;
    private readonly TimeProvider _time;
    private readonly ILogger<GpioRules> _logger;
    private readonly RuleState[] _rules;
    private readonly FrozenDictionary<string, RuleState[]> _byModel;
    private readonly WakeSignal _wake = new();
    private readonly Lock _gate = new();

    public GpioRules(GpioPort port, IOptions<GpioOptions> options, DeploymentStore store, ReconcileWatchdog watchdog, TimeProvider time, ILogger<GpioRules> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(watchdog);
        _port = port;
        _store = store;
        _watchdog = watchdog;
        _time = time;
        _logger = logger;
        var rules = options.Value.Enabled ? options.Value.Rules : [];
        _rules = [.. rules.Select((r, i) => new RuleState(r, i))];
        _byModel = _rules.GroupBy(r => r.Rule.Model, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        foreach (var rule in _rules)
        {
            _port.OpenOutput(rule.Rule.Pin, $"rule {rule.Number} ({rule.Rule.Model}/{rule.Rule.Output})", rule.Inactive);
        }

        _store.Changed += OnDeploymentChanged;
        _watchdog.Stalled += OnWatchdogStalled;
        _watchdog.Recovered += OnWatchdogRecovered;
    }

    /// <summary>Responses that matched a rule since start.</summary>
    public long Fired => Interlocked.Read(ref _fired);

    private long _fired;

    // Set (under _gate) while the watchdog reports the reconcile loop stalled: matches do not drive pins.
    private bool _held;

    public bool Observes(string model) => _byModel.ContainsKey(model);

    public void Observe(string model, IReadOnlyList<string> names, IReadOnlyCollection<OrtValue> values)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(values);
        if (!_byModel.TryGetValue(model, out var rules))
        {
            return;
        }

        foreach (var rule in rules)
        {
            var at = IndexOf(names, rule.Rule.Output);
            if (at < 0 || at >= values.Count)
            {
                continue;
            }

            var value = values is IReadOnlyList<OrtValue> list ? list[at] : values.ElementAt(at);
            if (TryRead(value, rule.Rule.Index, out var element) && Matches(rule.Rule, element))
            {
                Interlocked.Increment(ref _fired);
                var until = _time.GetUtcNow() + TimeSpan.FromSeconds(rule.Rule.HoldSeconds);
                lock (_gate)
                {
                    if (_held)
                    {
                        continue;
                    }

                    rule.HoldUntil = until;
                    if (!rule.Active)
                    {
                        rule.Active = true;
                        _port.Write(rule.Rule.Pin, rule.Level);
                    }
                }

                _wake.Wake();
            }
        }
    }

    /// <summary>Drives the pins of <paramref name="model"/>'s rules (all rules when null) to their inactive level.</summary>
    public void SafeState(string? model, string reason)
    {
        Log.GpioSafeState(_logger, model ?? "all models", reason);
        lock (_gate)
        {
            foreach (var rule in _rules)
            {
                if (model is null || rule.Rule.Model == model)
                {
                    rule.Active = false;
                    rule.HoldUntil = DateTimeOffset.MinValue;
                    _port.Write(rule.Rule.Pin, rule.Inactive);
                }
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_rules.Length > 0)
        {
            SafeState(null, "agent stopping");
        }
    }

    public override void Dispose()
    {
        _store.Changed -= OnDeploymentChanged;
        _watchdog.Stalled -= OnWatchdogStalled;
        _watchdog.Recovered -= OnWatchdogRecovered;
        _wake.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_rules.Length == 0)
        {
            return;
        }

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var now = _time.GetUtcNow();
                var next = TimeSpan.FromSeconds(1);
                lock (_gate)
                {
                    foreach (var rule in _rules.Where(r => r.Active))
                    {
                        if (rule.HoldUntil <= now)
                        {
                            rule.Active = false;
                            _port.Write(rule.Rule.Pin, rule.Inactive);
                        }
                        else if (rule.HoldUntil - now < next)
                        {
                            next = rule.HoldUntil - now;
                        }
                    }
                }

                await _wake.WaitAsync(next, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping; StopAsync applies the safe state.
        }
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool Matches(GpioRule rule, double element) =>
        rule.Above is { } above ? element > above : rule.EqualTo is { } equal && element == equal;

    private static bool TryRead(OrtValue value, int index, out double element)
    {
        element = 0;
        if (!value.IsTensor)
        {
            return false;
        }

        switch (value.GetTensorTypeAndShape().ElementDataType)
        {
            case TensorElementType.Float:
                return At(value.GetTensorDataAsSpan<float>(), index, v => v, out element);
            case TensorElementType.Double:
                return At(value.GetTensorDataAsSpan<double>(), index, v => v, out element);
            case TensorElementType.Int64:
                return At(value.GetTensorDataAsSpan<long>(), index, v => v, out element);
            case TensorElementType.Int32:
                return At(value.GetTensorDataAsSpan<int>(), index, v => v, out element);
            case TensorElementType.UInt8:
                return At(value.GetTensorDataAsSpan<byte>(), index, v => v, out element);
            case TensorElementType.Bool:
                return At(value.GetTensorDataAsSpan<bool>(), index, v => v ? 1 : 0, out element);
            default:
                return false;
        }
    }

    private static bool At<T>(ReadOnlySpan<T> span, int index, Func<T, double> convert, out double element)
    {
        if (index < span.Length)
        {
            element = convert(span[index]);
            return true;
        }

        element = 0;
        return false;
    }

    private void OnDeploymentChanged(object? sender, ModelRecord record)
    {
        if (record.State is DeploymentStates.Removed or DeploymentStates.RollingBack or DeploymentStates.RolledBack && _byModel.ContainsKey(record.Name))
        {
            SafeState(record.Name, record.State);
        }
    }

    private void OnWatchdogStalled(object? sender, TimeSpan silent)
    {
        if (_rules.Length == 0)
        {
            return;
        }

        lock (_gate)
        {
            _held = true;
        }

        SafeState(null, $"watchdog: reconcile loop stalled for {silent.TotalSeconds:0} s");
    }

    private void OnWatchdogRecovered(object? sender, EventArgs e)
    {
        lock (_gate)
        {
            _held = false;
        }
    }

    private sealed class RuleState(GpioRule rule, int number)
    {
        public GpioRule Rule { get; } = rule;

        public int Number { get; } = number;

        public PinValue Level { get; } = rule.Level.Equals("Low", StringComparison.OrdinalIgnoreCase) ? PinValue.Low : PinValue.High;

        public PinValue Inactive => Level == PinValue.High ? PinValue.Low : PinValue.High;

        public bool Active { get; set; }

        public DateTimeOffset HoldUntil { get; set; }
    }
}
