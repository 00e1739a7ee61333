namespace EdgeAgent.Fleet.Rollouts;

/// <summary>Where one device stands in a rollout (stable strings, stored in the rollout state).</summary>
public static class RolloutDeviceStatus
{
    /// <summary>Not targeted yet: its wave has not started.</summary>
    public const string Pending = "pending";

    /// <summary>Its desired state names the version; it has neither succeeded nor failed yet.</summary>
    public const string Targeted = "targeted";

    /// <summary>It reported the version <c>Active</c> (serving, probation passed).</summary>
    public const string Succeeded = "succeeded";

    /// <summary>It reported the version <c>Failed</c> or <c>RolledBack</c>, or did not succeed before its deadline.</summary>
    public const string Failed = "failed";
}
