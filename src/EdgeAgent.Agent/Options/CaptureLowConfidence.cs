namespace EdgeAgent.Agent.Options;

/// <summary>One entry of <c>Capture:LowConfidence</c>.</summary>
public sealed class CaptureLowConfidence
{
    public string Model { get; set; } = string.Empty;

    /// <summary>Output holding per-class scores, e.g. <c>probabilities</c>.</summary>
    public string Output { get; set; } = string.Empty;

    /// <summary>A sample whose highest score is below this is low-confidence.</summary>
    public double Below { get; set; } = 0.6;
}
