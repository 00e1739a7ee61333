using System.Device.Gpio;
using EdgeAgent.Agent.Json;
using EdgeAgent.Agent.Options;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Hardware;

/// <summary>
/// The agent's one door to the pins: opens the controller (once; a missing GPIO chip is reported, not fatal), remembers
/// which rule, LED or input owns each pin and what was last written, and logs instead of driving in dry-run mode.
/// </summary>
public sealed class GpioPort : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, PinState> _pins = [];
    private readonly GpioController? _controller;
    private readonly ILogger<GpioPort> _logger;

    public GpioPort(IOptions<GpioOptions> options, GpioControllerFactory factory, ILogger<GpioPort> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(factory);
        _logger = logger;
        Enabled = options.Value.Enabled;
        DryRun = options.Value.DryRun;
        if (!Enabled || DryRun)
        {
            return;
        }

        try
        {
            _controller = factory();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // No GPIO chip (GpiodException, IOException, PlatformNotSupportedException...): report it, keep serving.
            Error = ex.Message;
            Log.GpioUnavailable(_logger, ex.Message);
        }
    }

    public bool Enabled { get; }

    public bool DryRun { get; }

    /// <summary>True when pins are driven (a controller is open) or simulated (dry run).</summary>
    public bool Available => Enabled && (DryRun || _controller is not null);

    public string? Error { get; }

    /// <summary>The <c>gpio</c> entry of the health document and of <c>/v1/status</c>.</summary>
    public GpioStatus Status() => new(Enabled, Available, DryRun, Error);

    public IReadOnlyList<GpioPinInfo> Pins()
    {
        lock (_gate)
        {
            return [.. _pins.Values.OrderBy(p => p.Pin).Select(p => new GpioPinInfo(p.Pin, p.Output ? "Output" : "Input", Describe(ReadLocked(p)), p.Owner, p.Error))];
        }
    }

    public void OpenOutput(int pin, string owner, PinValue initial)
    {
        lock (_gate)
        {
            var state = new PinState(pin, owner, Output: true) { Value = initial };
            _pins[pin] = state;
            if (DryRun)
            {
                Log.GpioDryRun(_logger, pin, initial, owner);
            }
            else if (_controller is not null)
            {
                Try(state, () => _controller.OpenPin(pin, PinMode.Output, initial));
            }
        }
    }

    public void OpenInput(int pin, string owner, PinChangeEventHandler onRising)
    {
        lock (_gate)
        {
            var state = new PinState(pin, owner, Output: false);
            _pins[pin] = state;
            if (_controller is not null)
            {
                Try(state, () =>
                {
                    _controller.OpenPin(pin, PinMode.Input);
                    _controller.RegisterCallbackForPinValueChangedEvent(pin, PinEventTypes.Rising, onRising);
                });
            }
        }
    }

    /// <param name="quiet">Do not log the level in dry run (a blinking LED would log several lines a second).</param>
    public void Write(int pin, PinValue value, bool quiet = false)
    {
        lock (_gate)
        {
            if (!_pins.TryGetValue(pin, out var state) || !state.Output || state.Value == value)
            {
                return;
            }

            state.Value = value;
            if (DryRun)
            {
                if (!quiet)
                {
                    Log.GpioDryRun(_logger, pin, value, state.Owner);
                }
            }
            else if (_controller is not null && state.Error is null)
            {
                Try(state, () => _controller.Write(pin, value));
            }
        }
    }

    public PinValue? Read(int pin)
    {
        lock (_gate)
        {
            return _pins.TryGetValue(pin, out var state) ? ReadLocked(state) : null;
        }
    }

    public void Dispose() => _controller?.Dispose();

    private static string? Describe(PinValue? value) => value is null ? null : value == PinValue.High ? "High" : "Low";

    private PinValue? ReadLocked(PinState state)
    {
        if (state.Output || _controller is null || state.Error is not null)
        {
            return state.Value;
        }

        try
        {
            return _controller.Read(state.Pin);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            return null;
        }
    }

    private void Try(PinState state, Action action)
    {
        try
        {
            action();
            state.Error = null;
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ArgumentException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            state.Error = ex.Message;
            Log.GpioPinFailed(_logger, state.Pin, state.Owner, ex.Message);
        }
    }

    private sealed record PinState(int Pin, string Owner, bool Output)
    {
        public PinValue? Value { get; set; }

        public string? Error { get; set; }
    }
}
