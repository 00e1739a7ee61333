using EdgeAgent.Fleet.Rollouts;

namespace EdgeAgent.Cli.Dashboard;

/// <summary>One revision of a rollout as the dashboard saw it: when (the revision's <c>updated</c>), its state, wave and counts.</summary>
internal sealed record TimelinePoint(DateTimeOffset T, long Revision, string State, int CurrentWave, RolloutCounts Counts);
