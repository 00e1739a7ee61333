namespace EdgeAgent.Agent.Options;

/// <summary>
/// One entry of <c>Gpio:Rules</c>: when element <see cref="Index"/> of output <see cref="Output"/> of a served response
/// of <see cref="Model"/> is above <see cref="Above"/> (or equal to <see cref="EqualTo"/>), drive <see cref="Pin"/> to
/// <see cref="Level"/> and hold it there for <see cref="HoldSeconds"/> after the last response that matched.
/// </summary>
public sealed class GpioRule
{
    public string Model { get; set; } = string.Empty;

    /// <summary>Output tensor name, e.g. <c>probabilities</c> or <c>label</c>.</summary>
    public string Output { get; set; } = string.Empty;

    /// <summary>Element index in the flattened output (row-major: row * columns + column).</summary>
    public int Index { get; set; }

    public double? Above { get; set; }

    /// <summary>For integer (label) outputs: fires when the element equals this value.</summary>
    public long? EqualTo { get; set; }

    public int Pin { get; set; } = -1;

    /// <summary><c>High</c> or <c>Low</c>: the level while the rule holds; the opposite is the safe (inactive) level.</summary>
    public string Level { get; set; } = "High";

    public double HoldSeconds { get; set; } = 1;
}
