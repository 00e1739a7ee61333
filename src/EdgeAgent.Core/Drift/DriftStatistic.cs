namespace EdgeAgent.Core.Drift;

/// <summary>What one monitored distribution measures from each sample of its tensor (docs/drift.md#baseline).</summary>
public enum DriftStatistic
{
    /// <summary>One element of the sample: the one at <see cref="DriftFeatureSpec.Index"/> (row-major within the sample).</summary>
    Value,

    /// <summary>The mean of all elements of the sample (a summary of a large tensor).</summary>
    Mean,

    /// <summary>The population standard deviation (divisor n) of all elements of the sample.</summary>
    Std,

    /// <summary>Every element of the sample counted as a class (integer or bool outputs); binned by exact value.</summary>
    Class,
}
