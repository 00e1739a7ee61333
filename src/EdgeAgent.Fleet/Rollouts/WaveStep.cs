using System.Globalization;

namespace EdgeAgent.Fleet.Rollouts;

/// <summary>One entry of <c>--waves</c>: a cumulative device count (<c>5</c>) or a cumulative share of the targets (<c>10%</c>).</summary>
public sealed record WaveStep(int? Count, decimal? Percent)
{
    public override string ToString() => Count is { } count ? count.ToString(CultureInfo.InvariantCulture) : $"{Percent!.Value.ToString(CultureInfo.InvariantCulture)}%";
}
