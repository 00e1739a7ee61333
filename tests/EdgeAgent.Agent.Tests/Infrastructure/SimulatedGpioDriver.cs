using System.Collections.Concurrent;
using System.Device.Gpio;

namespace EdgeAgent.Agent.Tests.Infrastructure;

/// <summary>A GPIO chip in memory: pins keep what is written, tests raise edges on inputs and read every write back.</summary>
public sealed class SimulatedGpioDriver : GpioDriver
{
    private readonly ConcurrentDictionary<int, PinValue> _values = new();
    private readonly ConcurrentDictionary<int, PinMode> _modes = new();
    private readonly ConcurrentDictionary<int, List<(PinEventTypes Types, PinChangeEventHandler Handler)>> _callbacks = new();

    /// <summary>Every write, in order.</summary>
    public ConcurrentQueue<(int Pin, PinValue Value)> Writes { get; } = new();

    protected override int PinCount => 64;

    public PinValue? Value(int pin) => _values.TryGetValue(pin, out var v) ? v : null;

    public int WritesTo(int pin) => Writes.Count(w => w.Pin == pin);

    /// <summary>Raises a rising edge on an input pin, as a button press would (the callbacks run on the caller's thread).</summary>
    public void RaiseRising(int pin)
    {
        _values[pin] = PinValue.High;
        if (_callbacks.TryGetValue(pin, out var list))
        {
            foreach (var (types, handler) in list.ToList())
            {
                if (types.HasFlag(PinEventTypes.Rising))
                {
                    handler(this, new PinValueChangedEventArgs(PinEventTypes.Rising, pin));
                }
            }
        }

        _values[pin] = PinValue.Low;
    }

    protected override void OpenPin(int pinNumber) => _values.TryAdd(pinNumber, PinValue.Low);

    protected override void ClosePin(int pinNumber) => _modes.TryRemove(pinNumber, out _);

    protected override void SetPinMode(int pinNumber, PinMode mode) => _modes[pinNumber] = mode;

    protected override PinMode GetPinMode(int pinNumber) => _modes.GetValueOrDefault(pinNumber, PinMode.Input);

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) => true;

    protected override PinValue Read(int pinNumber) => _values.GetValueOrDefault(pinNumber, PinValue.Low);

    protected override void Write(int pinNumber, PinValue value)
    {
        _values[pinNumber] = value;
        Writes.Enqueue((pinNumber, value));
    }

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken) =>
        new() { TimedOut = true, EventTypes = PinEventTypes.None };

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback) =>
        _callbacks.GetOrAdd(pinNumber, _ => []).Add((eventTypes, callback));

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback)
    {
        if (_callbacks.TryGetValue(pinNumber, out var list))
        {
            list.RemoveAll(c => c.Handler == callback);
        }
    }
}
