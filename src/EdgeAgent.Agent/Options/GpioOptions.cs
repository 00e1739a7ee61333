namespace EdgeAgent.Agent.Options;

/// <summary>Section <c>Gpio</c>: the status LED, output rules on served predictions, and input pins.</summary>
public sealed class GpioOptions
{
    public const string Section = "Gpio";

    /// <summary>Off by default: the agent touches no pin unless told to.</summary>
    public bool Enabled { get; set; }

    /// <summary>Logs every pin write instead of driving the pins (no GPIO chip is opened).</summary>
    public bool DryRun { get; set; }

    /// <summary>Output pin of the status LED; none when unset.</summary>
    public int? StatusLedPin { get; set; }

    public List<GpioRule> Rules { get; set; } = [];

    public List<GpioInput> Inputs { get; set; } = [];
}
