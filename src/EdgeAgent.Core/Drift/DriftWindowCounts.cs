namespace EdgeAgent.Core.Drift;

/// <summary>The counts of one window for every baseline entry, in the order of the baseline's features and outputs.</summary>
public sealed record DriftWindowCounts(IReadOnlyList<DriftBinCounts> Features, IReadOnlyList<DriftBinCounts> Outputs);
