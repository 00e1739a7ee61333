using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Deployment;
using EdgeAgent.Core.Desired;

namespace EdgeAgent.Core.Tests.Deployment;

/// <summary>The planner's steps for probation, retained versions, staged activations, rollbacks and interruptions.</summary>
public sealed class PlannerLifecycleTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static DesiredState Want(string name, string version) =>
        new() { Models = [new DesiredModel(name, version)] };

    private static Dictionary<string, ModelRecord> Have(params ModelRecord[] records) =>
        records.ToDictionary(r => r.Name, StringComparer.Ordinal);

    private static ModelRecord InProbation(string name, string version, string previous) => new()
    {
        Name = name,
        ActiveVersion = version,
        TargetVersion = version,
        State = DeploymentStates.Probation,
        Attempts = 1,
        Retained = [previous],
        ProbationStarted = Now.AddMinutes(-1),
        ProbationEnds = Now.AddMinutes(4),
    };

    private static ModelRecord Active(string name, string version, params string[] retained) => new()
    {
        Name = name,
        ActiveVersion = version,
        TargetVersion = version,
        State = DeploymentStates.Active,
        Attempts = 1,
        Retained = retained,
    };

    private static ModelRecord Staged(string name, string version, string? active, int attempts, DateTimeOffset? activateAt) => new()
    {
        Name = name,
        ActiveVersion = active,
        TargetVersion = version,
        State = DeploymentStates.Staged,
        Attempts = attempts,
        ActivateAt = activateAt,
    };

    private static ModelRecord RolledBack(string name, string version, string serving, int attempts) => new()
    {
        Name = name,
        ActiveVersion = serving,
        TargetVersion = version,
        State = DeploymentStates.RolledBack,
        Attempts = attempts,
        Reason = "probation breached: error rate 40.0% is more than 5.0 points above the previous version's 0.0%",
    };

    private static ModelRecord Failed(string name, string version, int attempts, string reason, string? active = null) => new()
    {
        Name = name,
        ActiveVersion = active,
        TargetVersion = version,
        State = DeploymentStates.Failed,
        Attempts = attempts,
        Reason = reason,
    };

    [Fact]
    public void Version_in_probation_that_is_still_desired_is_watched()
    {
        var plan = DeploymentPlanner.Plan(Want("vibration", "2.0.0"), Have(InProbation("vibration", "2.0.0", previous: "1.0.0")), now: Now);

        Assert.Equal([new DeploymentStep.Watch("vibration", "2.0.0")], plan.Steps);
    }

    [Fact]
    public void Version_in_probation_is_watched_when_no_time_is_given()
    {
        var plan = DeploymentPlanner.Plan(Want("vibration", "2.0.0"), Have(InProbation("vibration", "2.0.0", previous: "1.0.0")));

        Assert.Equal([new DeploymentStep.Watch("vibration", "2.0.0")], plan.Steps);
    }

    [Fact]
    public void Desiring_the_previous_version_during_probation_reverts_to_it()
    {
        var plan = DeploymentPlanner.Plan(Want("vibration", "1.0.0"), Have(InProbation("vibration", "2.0.0", previous: "1.0.0")), now: Now);

        Assert.Equal([new DeploymentStep.Revert("vibration", "1.0.0")], plan.Steps);
    }

    [Fact]
    public void Desiring_a_new_version_during_probation_deploys_it()
    {
        var plan = DeploymentPlanner.Plan(Want("vibration", "3.0.0"), Have(InProbation("vibration", "2.0.0", previous: "1.0.0")), now: Now);

        Assert.Equal([new DeploymentStep.Deploy("vibration", "3.0.0", 1)], plan.Steps);
    }

    [Theory]
    [InlineData("2.0.0")]
    [InlineData("1.0.0")]
    public void Desired_version_still_retained_is_reverted_to_without_a_fetch(string version)
    {
        var plan = DeploymentPlanner.Plan(Want("vibration", version), Have(Active("vibration", "3.0.0", "2.0.0", "1.0.0")), now: Now);

        Assert.Equal([new DeploymentStep.Revert("vibration", version)], plan.Steps);
    }

    [Fact]
    public void Desired_version_no_longer_retained_is_fetched_again()
    {
        var plan = DeploymentPlanner.Plan(Want("vibration", "0.9.0"), Have(Active("vibration", "3.0.0", "2.0.0", "1.0.0")), now: Now);

        Assert.Equal([new DeploymentStep.Deploy("vibration", "0.9.0", 1)], plan.Steps);
    }

    [Fact]
    public void Retained_version_is_reverted_to_after_a_failed_upgrade()
    {
        var record = Failed("vibration", "3.0.0", attempts: 1, reason: "hash-mismatch: chunk 0", active: "2.0.0") with { Retained = ["1.0.0"] };

        var plan = DeploymentPlanner.Plan(Want("vibration", "1.0.0"), Have(record), now: Now);

        Assert.Equal([new DeploymentStep.Revert("vibration", "1.0.0")], plan.Steps);
    }

    [Fact]
    public void Staged_version_waits_for_its_activation_time()
    {
        var plan = DeploymentPlanner.Plan(Want("vibration", "2.0.0"), Have(Staged("vibration", "2.0.0", "1.0.0", attempts: 1, activateAt: Now.AddMinutes(30))), now: Now);

        Assert.True(plan.IsEmpty);
    }

    [Fact]
    public void Staged_version_goes_on_when_its_activation_time_has_come_keeping_its_attempt_number()
    {
        var record = Staged("vibration", "2.0.0", "1.0.0", attempts: 2, activateAt: Now.AddMinutes(30));

        Assert.Equal([new DeploymentStep.Deploy("vibration", "2.0.0", 2)], DeploymentPlanner.Plan(Want("vibration", "2.0.0"), Have(record), now: Now.AddMinutes(30)).Steps);
        Assert.Equal([new DeploymentStep.Deploy("vibration", "2.0.0", 2)], DeploymentPlanner.Plan(Want("vibration", "2.0.0"), Have(record), now: Now.AddDays(1)).Steps);
    }

    [Fact]
    public void Staged_version_with_no_attempt_recorded_goes_on_as_attempt_one()
    {
        var record = Staged("vibration", "2.0.0", "1.0.0", attempts: 0, activateAt: Now.AddMinutes(-1));

        var plan = DeploymentPlanner.Plan(Want("vibration", "2.0.0"), Have(record), now: Now);

        Assert.Equal([new DeploymentStep.Deploy("vibration", "2.0.0", 1)], plan.Steps);
    }

    [Fact]
    public void Staged_version_without_an_activation_time_goes_on()
    {
        var record = Staged("vibration", "2.0.0", "1.0.0", attempts: 2, activateAt: null);

        var plan = DeploymentPlanner.Plan(Want("vibration", "2.0.0"), Have(record), now: Now);

        Assert.Equal([new DeploymentStep.Deploy("vibration", "2.0.0", 2)], plan.Steps);
    }

    [Fact]
    public void Staged_version_that_is_no_longer_desired_does_not_hold_back_the_new_one()
    {
        var record = Staged("vibration", "2.0.0", "1.0.0", attempts: 2, activateAt: Now.AddHours(5));

        var plan = DeploymentPlanner.Plan(Want("vibration", "2.1.0"), Have(record), now: Now);

        Assert.Equal([new DeploymentStep.Deploy("vibration", "2.1.0", 1)], plan.Steps);
    }

    [Fact]
    public void A_waiting_staged_version_does_not_hold_back_other_models()
    {
        var desired = new DesiredState { Models = [new DesiredModel("vibration", "2.0.0"), new DesiredModel("pump", "1.0.0")] };
        var current = Have(Staged("vibration", "2.0.0", "1.0.0", attempts: 1, activateAt: Now.AddHours(1)));

        var plan = DeploymentPlanner.Plan(desired, current, now: Now);

        Assert.Equal([new DeploymentStep.Deploy("pump", "1.0.0", 1)], plan.Steps);
    }

    [Fact]
    public void Automatically_rolled_back_version_is_not_retried()
    {
        var plan = DeploymentPlanner.Plan(Want("vibration", "2.0.0"), Have(RolledBack("vibration", "2.0.0", serving: "1.0.0", attempts: 1)), now: Now);

        Assert.True(plan.IsEmpty);
    }

    [Fact]
    public void Automatically_rolled_back_version_is_not_retried_past_the_attempt_limit_either()
    {
        var plan = DeploymentPlanner.Plan(Want("vibration", "2.0.0"), Have(RolledBack("vibration", "2.0.0", serving: "1.0.0", attempts: 5)), maxAttempts: 10, now: Now);

        Assert.True(plan.IsEmpty);
    }

    [Fact]
    public void Rolled_back_version_is_tried_again_once_its_attempts_were_reset()
    {
        var plan = DeploymentPlanner.Plan(Want("vibration", "2.0.0"), Have(RolledBack("vibration", "2.0.0", serving: "1.0.0", attempts: 0)), now: Now);

        Assert.Equal([new DeploymentStep.Deploy("vibration", "2.0.0", 1)], plan.Steps);
    }

    [Fact]
    public void A_new_version_after_a_rollback_is_deployed()
    {
        var plan = DeploymentPlanner.Plan(Want("vibration", "2.0.1"), Have(RolledBack("vibration", "2.0.0", serving: "1.0.0", attempts: 1)), now: Now);

        Assert.Equal([new DeploymentStep.Deploy("vibration", "2.0.1", 1)], plan.Steps);
    }

    [Theory]
    [InlineData("interrupted while Pending (agent restarted)")]
    [InlineData("interrupted while Fetching (agent restarted)")]
    [InlineData("interrupted while Verifying (agent restarted)")]
    public void Interruption_before_staging_is_retried_past_the_attempt_limit(string reason)
    {
        var plan = DeploymentPlanner.Plan(Want("vibration", "2.0.0"), Have(Failed("vibration", "2.0.0", attempts: 3, reason: reason, active: "1.0.0")), maxAttempts: 3, now: Now);

        Assert.Equal([new DeploymentStep.Deploy("vibration", "2.0.0", 4)], plan.Steps);
    }

    [Theory]
    [InlineData("interrupted while Staging (agent restarted)")]
    [InlineData("interrupted while Activating (agent restarted)")]
    public void Interruption_once_the_model_was_loaded_counts_toward_the_attempt_limit(string reason)
    {
        var below = DeploymentPlanner.Plan(Want("vibration", "2.0.0"), Have(Failed("vibration", "2.0.0", attempts: 2, reason: reason, active: "1.0.0")), maxAttempts: 3, now: Now);
        var atLimit = DeploymentPlanner.Plan(Want("vibration", "2.0.0"), Have(Failed("vibration", "2.0.0", attempts: 3, reason: reason, active: "1.0.0")), maxAttempts: 3, now: Now);

        Assert.Equal([new DeploymentStep.Deploy("vibration", "2.0.0", 3)], below.Steps);
        Assert.True(atLimit.IsEmpty);
    }

    [Theory]
    [InlineData("interrupted while Pending", true)]
    [InlineData("interrupted while Fetching", true)]
    [InlineData("interrupted while Verifying", true)]
    [InlineData("superseded by 2.1.0", true)]
    [InlineData("interrupted while Staging", false)]
    [InlineData("interrupted while Activating", false)]
    [InlineData("interrupted while Probation", false)]
    [InlineData("acceptance-failed: vector 0 differs", false)]
    [InlineData("disk-budget: needs more", false)]
    public void Only_interruptions_before_staging_are_transient(string reason, bool transient)
    {
        Assert.Equal(transient, DeploymentPlanner.IsTransient(reason));
    }

    [Theory]
    [InlineData(RejectionReason.AcceptanceFailed + ": vector 'idle' output 0 differs by 0.5 (tolerance 0.001)")]
    public void Acceptance_failures_are_permanent(string reason)
    {
        Assert.True(DeploymentPlanner.IsPermanent(reason));
        Assert.False(DeploymentPlanner.IsTransient(reason));

        var plan = DeploymentPlanner.Plan(Want("vibration", "2.0.0"), Have(Failed("vibration", "2.0.0", attempts: 1, reason: reason, active: "1.0.0")), maxAttempts: 3, now: Now);

        Assert.True(plan.IsEmpty);
    }

    [Theory]
    [InlineData(RejectionReason.AcceptanceFailed + ": vector 'idle' differs")]
    [InlineData(RejectionReason.DiskBudget + ": no room")]
    public void Permanent_failure_is_tried_again_once_its_attempts_were_reset(string reason)
    {
        var plan = DeploymentPlanner.Plan(Want("vibration", "2.0.0"), Have(Failed("vibration", "2.0.0", attempts: 0, reason: reason, active: "1.0.0")), now: Now);

        Assert.Equal([new DeploymentStep.Deploy("vibration", "2.0.0", 1)], plan.Steps);
    }

    [Fact]
    public void Model_in_probation_that_is_no_longer_desired_is_unloaded()
    {
        var plan = DeploymentPlanner.Plan(DesiredState.Empty, Have(InProbation("vibration", "2.0.0", previous: "1.0.0")), now: Now);

        Assert.Equal([new DeploymentStep.Unload("vibration")], plan.Steps);
    }
}
