namespace EdgeAgent.Agent.Capture;

/// <summary>One captured request: its inputs and outputs as Open Inference Protocol tensors (<see cref="Json"/>).</summary>
public sealed class CaptureSample
{
    public long Id { get; set; }

    public string Model { get; set; } = string.Empty;

    public string Version { get; set; } = string.Empty;

    public DateTime At { get; set; }

    /// <summary><c>drift</c> or <c>low-confidence</c>.</summary>
    public string Reason { get; set; } = string.Empty;

    /// <summary><c>{"inputs":[...],"outputs":[...],"redacted":[...]}</c>.</summary>
    public string Json { get; set; } = string.Empty;
}
