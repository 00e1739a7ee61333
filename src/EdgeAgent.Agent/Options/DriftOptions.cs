namespace EdgeAgent.Agent.Options;

/// <summary>Section <c>Drift</c>: on-device drift monitoring of models whose bundle carries a baseline (docs/drift.md).</summary>
public sealed class DriftOptions
{
    public const string Section = "Drift";

    /// <summary>Monitor models that have a baseline (on by default; a bundle without a baseline is never monitored).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Length of a drift window: one report per monitored model per window on <c>{p}/devices/{id}/drift</c>.</summary>
    public double WindowSeconds { get; set; } = 60;

    /// <summary>Values a feature needs in a window to be judged; with fewer the window is <c>insufficient</c> and changes no state.</summary>
    public int MinSamples { get; set; } = 50;
}
