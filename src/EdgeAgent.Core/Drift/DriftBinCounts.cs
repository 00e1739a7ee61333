namespace EdgeAgent.Core.Drift;

/// <summary>One window of one histogram: the count per bin and the NaN values left out of the bins.</summary>
public sealed record DriftBinCounts(IReadOnlyList<long> Bins, long NaN)
{
    /// <summary>Values counted in the bins (NaN excluded).</summary>
    public long Binned => Bins.Sum();
}
