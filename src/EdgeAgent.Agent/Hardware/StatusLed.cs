using System.Device.Gpio;
using EdgeAgent.Agent.Deployment;
using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Deployment;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Hardware;

/// <summary>
/// The status LED (<c>Gpio:StatusLedPin</c>): <c>ready</c> steady on; <c>updating</c> slow blink while a deployment is
/// under way; <c>degraded</c> fast blink while the broker is unreachable; <c>error</c> a double flash every 1.5 s while a
/// deployment is Failed or the reconcile loop is stalled (a watchdog failure), so that it is not mistaken for a board
/// without power. Pattern changes are logged; the toggles themselves are not (also not in dry run).
/// </summary>
public sealed class StatusLed : BackgroundService
{
    public const string Ready = "ready";
    public const string Updating = "updating";
    public const string Degraded = "degraded";
    public const string Error = "error";
    public const string None = "none";

    private static readonly TimeSpan SlowBlink = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan FastBlink = TimeSpan.FromMilliseconds(125);
    private static readonly TimeSpan Steady = TimeSpan.FromSeconds(1);

    /// <summary>Error: on, off, on, then a long off.</summary>
    private static readonly TimeSpan[] DoubleFlash = [TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(1050)];

    private readonly GpioPort _port;
    private readonly DeploymentStore _store;
    private readonly MqttSession _mqtt;
    private readonly ReconcileWatchdog _watchdog;
    private readonly ILogger<StatusLed> _logger;
    private readonly int? _pin;
    private readonly WakeSignal _wake = new();
    private volatile string _pattern = None;

    public StatusLed(GpioPort port, IOptions<GpioOptions> options, DeploymentStore store, MqttSession mqtt, ReconcileWatchdog watchdog, ILogger<StatusLed> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(mqtt);
        ArgumentNullException.ThrowIfNull(watchdog);
        _port = port;
        _store = store;
        _mqtt = mqtt;
        _watchdog = watchdog;
        _logger = logger;
        _pin = options.Value.Enabled ? options.Value.StatusLedPin : null;
        if (_pin is { } pin)
        {
            _port.OpenOutput(pin, "status LED", PinValue.Low);
            _store.Changed += OnRecordChanged;
            _mqtt.Connected += OnChanged;
            _watchdog.Stalled += OnStalled;
            _watchdog.Recovered += OnChanged;
        }
    }

    /// <summary>The pattern shown now (<see cref="None"/> without an LED).</summary>
    public string Pattern => _pattern;

    /// <summary>The agent state the LED shows: error (watchdog failure or a Failed deployment), then updating, then degraded, then ready.</summary>
    public string Evaluate()
    {
        if (!_watchdog.IsHealthy)
        {
            return Error;
        }

        var records = _store.Snapshot().Values;
        if (records.Any(r => r.State == DeploymentStates.Failed))
        {
            return Error;
        }

        if (records.Any(r => DeploymentStates.IsInProgress(r.State)))
        {
            return Updating;
        }

        return _mqtt.IsConnected ? Ready : Degraded;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_pin is { } pin)
        {
            _port.Write(pin, PinValue.Low);
        }
    }

    public override void Dispose()
    {
        _store.Changed -= OnRecordChanged;
        _mqtt.Connected -= OnChanged;
        _watchdog.Stalled -= OnStalled;
        _watchdog.Recovered -= OnChanged;
        _wake.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_pin is not { } pin)
        {
            return;
        }

        var on = false;
        var phase = 0;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var pattern = Evaluate();
                if (!string.Equals(pattern, _pattern, StringComparison.Ordinal))
                {
                    Log.StatusLedPattern(_logger, pin, pattern);
                    phase = 0;
                }

                _pattern = pattern;
                TimeSpan wait;
                switch (pattern)
                {
                    case Ready:
                        on = true;
                        wait = Steady;
                        break;
                    case Updating:
                        on = !on;
                        wait = SlowBlink;
                        break;
                    case Degraded:
                        on = !on;
                        wait = FastBlink;
                        break;
                    default:
                        on = phase % 2 == 0;
                        wait = DoubleFlash[phase];
                        phase = (phase + 1) % DoubleFlash.Length;
                        break;
                }

                _port.Write(pin, on ? PinValue.High : PinValue.Low, quiet: true);
                await _wake.WaitAsync(wait, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private void OnChanged(object? sender, EventArgs e) => _wake.Wake();

    private void OnRecordChanged(object? sender, ModelRecord e) => _wake.Wake();

    private void OnStalled(object? sender, TimeSpan e) => _wake.Wake();
}
