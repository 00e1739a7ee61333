using EdgeAgent.Core.Bundles;

namespace EdgeAgent.Cli.Drift;

/// <summary>Where one model input lies within a row of a <see cref="SampleTable"/>: columns [Offset, Offset + Size).</summary>
internal sealed record InputLayout(TensorSpec Spec, int Offset, int Size, long[] SampleShape)
{
    public string Name => Spec.Name;
}
