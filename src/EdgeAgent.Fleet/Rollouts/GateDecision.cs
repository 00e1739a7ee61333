namespace EdgeAgent.Fleet.Rollouts;

/// <summary>What <see cref="RolloutGate.Decide"/> tells the driver to do next.</summary>
public sealed record GateDecision(GateAction Action, string? Reason = null)
{
    public static readonly GateDecision Wait = new(GateAction.Wait);

    public static readonly GateDecision Advance = new(GateAction.Advance);
}
