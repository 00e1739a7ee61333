namespace EdgeAgent.Fleet.Rollouts;

/// <summary>How many targets are in each <see cref="RolloutDeviceStatus"/>.</summary>
public sealed record RolloutCounts(int Pending, int Targeted, int Succeeded, int Failed)
{
    /// <summary>Devices whose desired state the rollout wrote (everything but pending).</summary>
    public int TargetedSoFar => Targeted + Succeeded + Failed;

    public static RolloutCounts Of(IEnumerable<RolloutDevice> devices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        int pending = 0, targeted = 0, succeeded = 0, failed = 0;
        foreach (var d in devices)
        {
            switch (d.Status)
            {
                case RolloutDeviceStatus.Targeted: targeted++; break;
                case RolloutDeviceStatus.Succeeded: succeeded++; break;
                case RolloutDeviceStatus.Failed: failed++; break;
                default: pending++; break;
            }
        }

        return new RolloutCounts(pending, targeted, succeeded, failed);
    }
}
