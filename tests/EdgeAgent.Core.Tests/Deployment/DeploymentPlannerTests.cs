using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Deployment;
using EdgeAgent.Core.Desired;

namespace EdgeAgent.Core.Tests.Deployment;

public sealed class DeploymentPlannerTests
{
    private static DesiredState Want(params (string Name, string Version)[] models) =>
        new() { Models = [.. models.Select(m => new DesiredModel(m.Name, m.Version))] };

    private static Dictionary<string, ModelRecord> Have(params ModelRecord[] records) =>
        records.ToDictionary(r => r.Name, StringComparer.Ordinal);

    private static ModelRecord Active(string name, string version) => new()
    {
        Name = name,
        ActiveVersion = version,
        TargetVersion = version,
        State = DeploymentStates.Active,
        Attempts = 1,
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
    public void Desired_model_with_nothing_active_is_deployed_as_first_attempt()
    {
        var plan = DeploymentPlanner.Plan(Want(("vibration", "1.0.0")), Have());

        var step = Assert.IsType<DeploymentStep.Deploy>(Assert.Single(plan.Steps));
        Assert.Equal(new DeploymentStep.Deploy("vibration", "1.0.0", 1), step);
    }

    [Fact]
    public void Nothing_is_done_when_the_desired_version_is_active()
    {
        var plan = DeploymentPlanner.Plan(Want(("vibration", "1.0.0")), Have(Active("vibration", "1.0.0")));

        Assert.True(plan.IsEmpty);
        Assert.Same(Plan.Empty, plan);
    }

    [Fact]
    public void Nothing_is_done_when_nothing_is_desired_or_held()
    {
        Assert.True(DeploymentPlanner.Plan(DesiredState.Empty, Have()).IsEmpty);
    }

    [Fact]
    public void New_desired_version_replaces_the_active_one_starting_at_attempt_one()
    {
        var plan = DeploymentPlanner.Plan(Want(("vibration", "1.1.0")), Have(Active("vibration", "1.0.0")));

        Assert.Equal([new DeploymentStep.Deploy("vibration", "1.1.0", 1)], plan.Steps);
    }

    [Fact]
    public void Failed_deployment_is_retried_with_the_next_attempt_number()
    {
        var current = Have(Failed("vibration", "1.0.0", attempts: 1, reason: "hash-mismatch: chunk 3 of 'model.onnx' does not match"));

        var plan = DeploymentPlanner.Plan(Want(("vibration", "1.0.0")), current);

        Assert.Equal([new DeploymentStep.Deploy("vibration", "1.0.0", 2)], plan.Steps);
    }

    [Fact]
    public void Failed_deployment_is_not_retried_after_the_last_attempt()
    {
        var current = Have(Failed("vibration", "1.0.0", attempts: 3, reason: "hash-mismatch: chunk 0 failed its sha256 check 3 times"));

        var plan = DeploymentPlanner.Plan(Want(("vibration", "1.0.0")), current, maxAttempts: 3);

        Assert.True(plan.IsEmpty);
    }

    [Theory]
    [InlineData("timeout: no manifest is published on edgeagent/v1/bundles/vibration/1.0.0/manifest (waited 30s)")]
    [InlineData("io-error: No space left on device")]
    [InlineData("insufficient-disk: 10 MiB free, 80 MiB needed")]
    public void Transient_failures_are_retried_past_the_attempt_limit(string reason)
    {
        var current = Have(Failed("vibration", "1.0.0", attempts: 3, reason: reason));

        var plan = DeploymentPlanner.Plan(Want(("vibration", "1.0.0")), current, maxAttempts: 3);

        Assert.Equal([new DeploymentStep.Deploy("vibration", "1.0.0", 4)], plan.Steps);
    }

    [Fact]
    public void A_trust_failure_is_tried_again_once_its_attempts_were_reset()
    {
        var current = Have(Failed("vibration", "1.0.0", attempts: 0, reason: "unknown-key: untrusted"));

        var plan = DeploymentPlanner.Plan(Want(("vibration", "1.0.0")), current);

        Assert.Equal([new DeploymentStep.Deploy("vibration", "1.0.0", 1)], plan.Steps);
    }

    [Fact]
    public void Attempt_limit_is_the_callers_choice()
    {
        var current = Have(Failed("vibration", "1.0.0", attempts: 3, reason: "hash-mismatch: chunk 0"));

        var plan = DeploymentPlanner.Plan(Want(("vibration", "1.0.0")), current, maxAttempts: 5);

        Assert.Equal([new DeploymentStep.Deploy("vibration", "1.0.0", 4)], plan.Steps);
    }

    [Theory]
    [InlineData("unknown-key: manifest is signed only by keys this device does not trust (0123456789ab)")]
    [InlineData("unsigned: manifest carries no signature")]
    [InlineData("bad-signature: signature by key 0123456789ab does not verify")]
    [InlineData("expired: manifest expired at 2025-01-01T00:00:00.0000000+00:00")]
    [InlineData("wrong-architecture: bundle targets arm64, this device is x64")]
    [InlineData("unsafe-path: file path '../x' escapes the bundle folder")]
    public void Trust_failure_is_not_retried(string reason)
    {
        var current = Have(Failed("vibration", "1.0.0", attempts: 1, reason: reason));

        var plan = DeploymentPlanner.Plan(Want(("vibration", "1.0.0")), current);

        Assert.True(plan.IsEmpty);
    }

    [Fact]
    public void Trust_failure_of_an_old_version_does_not_block_a_new_one()
    {
        var current = Have(Failed("vibration", "1.0.0", attempts: 1, reason: "unknown-key: untrusted"));

        var plan = DeploymentPlanner.Plan(Want(("vibration", "1.0.1")), current);

        Assert.Equal([new DeploymentStep.Deploy("vibration", "1.0.1", 1)], plan.Steps);
    }

    [Theory]
    [InlineData(RejectionReason.UnknownKey, true)]
    [InlineData(RejectionReason.HashMismatch, false)]
    [InlineData(RejectionReason.Timeout, false)]
    [InlineData(RejectionReason.InsufficientDisk, false)]
    [InlineData(null, false)]
    public void Only_trust_failures_count_as_permanent(string? code, bool permanent)
    {
        Assert.Equal(permanent, DeploymentPlanner.IsPermanent(code is null ? null : code + ": detail"));
    }

    [Fact]
    public void Model_no_longer_desired_is_unloaded()
    {
        var current = Have(Active("vibration", "1.0.0"), Active("pump", "2.0.0"));

        var plan = DeploymentPlanner.Plan(Want(("vibration", "1.0.0")), current);

        Assert.Equal([new DeploymentStep.Unload("pump")], plan.Steps);
    }

    [Fact]
    public void Empty_desired_state_unloads_every_active_model_in_name_order()
    {
        var current = Have(Active("vibration", "1.0.0"), Active("pump", "2.0.0"));

        var plan = DeploymentPlanner.Plan(DesiredState.Empty, current);

        Assert.Equal([new DeploymentStep.Unload("pump"), new DeploymentStep.Unload("vibration")], plan.Steps);
    }

    [Fact]
    public void Failed_record_of_a_model_no_longer_desired_is_forgotten()
    {
        var current = Have(Failed("pump", "2.0.0", attempts: 3, reason: "timeout: no chunk"));

        Assert.Equal([new DeploymentStep.Unload("pump")], DeploymentPlanner.Plan(DesiredState.Empty, current).Steps);
    }

    [Fact]
    public void Going_back_to_the_serving_version_after_a_failed_upgrade_fetches_nothing()
    {
        var current = Have(Failed("vibration", "2.0.0", attempts: 1, reason: "hash-mismatch: chunk 0", active: "1.0.0"));

        var plan = DeploymentPlanner.Plan(Want(("vibration", "1.0.0")), current);

        Assert.Equal([new DeploymentStep.Reactivate("vibration", "1.0.0")], plan.Steps);
    }

    [Fact]
    public void Deploys_come_before_unloads()
    {
        var current = Have(Active("pump", "2.0.0"));

        var plan = DeploymentPlanner.Plan(Want(("vibration", "1.0.0")), current);

        Assert.Equal([new DeploymentStep.Deploy("vibration", "1.0.0", 1), new DeploymentStep.Unload("pump")], plan.Steps);
    }
}
