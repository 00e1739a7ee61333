namespace EdgeAgent.Core.Deployment;

/// <summary>Persisted deployment state names. Stable strings: they are stored on disk and published in <c>reported</c>.</summary>
public static class DeploymentStates
{
    public const string Pending = "Pending";
    public const string Fetching = "Fetching";
    public const string Verifying = "Verifying";
    public const string Staging = "Staging";

    /// <summary>Fetched, verified and accepted; waiting for its activation time (<c>activateAfter</c> or the maintenance window).</summary>
    public const string Staged = "Staged";
    public const string Activating = "Activating";

    /// <summary>The new version serves and is watched; a breach rolls back to the previous version.</summary>
    public const string Probation = "Probation";
    public const string Active = "Active";
    public const string RollingBack = "RollingBack";
    public const string RolledBack = "RolledBack";
    public const string Failed = "Failed";
    public const string Removed = "Removed";

    /// <summary>States in which a deployment is under way (a restart must decide what happens to it).</summary>
    public static bool IsInProgress(string state) =>
        state is Pending or Fetching or Verifying or Staging or Activating or Probation or RollingBack;
}
