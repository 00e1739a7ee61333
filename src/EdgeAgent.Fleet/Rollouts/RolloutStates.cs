namespace EdgeAgent.Fleet.Rollouts;

/// <summary>States of a rollout as stored on <c>{p}/rollouts/{id}</c> (stable strings).</summary>
public static class RolloutStates
{
    public const string Running = "running";
    public const string Paused = "paused";
    public const string Completed = "completed";
    public const string Aborted = "aborted";

    public static bool IsFinal(string state) => state is Completed or Aborted;
}
