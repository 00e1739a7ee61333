namespace EdgeAgent.Core.Deployment;

/// <summary>Persisted deployment state names. Stable strings: they are stored on disk and published in <c>reported</c>.</summary>
public static class DeploymentStates
{
    public const string Pending = "Pending";
    public const string Fetching = "Fetching";
    public const string Verifying = "Verifying";
    public const string Staging = "Staging";
    public const string Activating = "Activating";
    public const string Active = "Active";
    public const string Failed = "Failed";
    public const string Removed = "Removed";

    public static bool IsInProgress(string state) =>
        state is Pending or Fetching or Verifying or Staging or Activating;
}
