namespace EdgeAgent.Core.Drift;

/// <summary>The three statistics of one window against its baseline (docs/drift.md#statistics).</summary>
public readonly record struct DriftScores(double Psi, double Js, double Ks);
