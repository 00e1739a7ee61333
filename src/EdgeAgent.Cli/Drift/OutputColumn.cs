using EdgeAgent.Core.Bundles;

namespace EdgeAgent.Cli.Drift;

/// <summary>
/// One model output over all rows: <see cref="PerSample"/> values per row, row-major in <see cref="Values"/>; or, when it
/// cannot be measured per sample, null values and the reason in <see cref="Skipped"/>.
/// </summary>
internal sealed record OutputColumn(TensorSpec Spec, int PerSample, double[]? Values, string? Skipped)
{
    public string Name => Spec.Name;

    public ReadOnlySpan<double> Sample(int row) => Values.AsSpan(row * PerSample, PerSample);
}
