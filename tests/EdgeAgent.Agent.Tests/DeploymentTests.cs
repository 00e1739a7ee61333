using System.Text;
using EdgeAgent.Agent.Tests.Infrastructure;
using EdgeAgent.Core.Mqtt;
using Microsoft.Extensions.Configuration;

namespace EdgeAgent.Agent.Tests;

public sealed class DeploymentTests
{
    private static readonly Topics Topics = new(Topics.DefaultPrefix);

    [Fact]
    public async Task Deployed_model_becomes_active_and_answers_inference()
    {
        await using var rig = await AgentRig.StartAsync();

        await rig.DeployActiveAsync("1.0.0");

        using var api = rig.Api();
        var (status, body) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
        Assert.Equal(200, status);
        Assert.Equal("1.0.0", body.RootElement.GetProperty("model_version").GetString());
        var label = body.RootElement.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "label");
        Assert.Equal([0L, 1L, 2L], label.GetProperty("data").EnumerateArray().Select(e => e.GetInt64()));
        Assert.True(File.Exists(Path.Combine(rig.StateDirectory, "models", "vibration", "1.0.0", "model.onnx")));
    }

    [Fact]
    public async Task Manifest_from_an_unknown_key_is_refused_before_any_chunk_is_requested()
    {
        await using var rig = await AgentRig.StartAsync(await TestBroker.EmbeddedAsync());
        var stranger = Fleet.Keys.SigningKeys.Generate(Path.Combine(rig.Work, "stranger"), "stranger");
        var bundle = rig.BuildBundle("1.0.0", keyPath: stranger.PrivateKeyPath);
        await rig.PublishAsync(bundle);

        await rig.DeployAsync("1.0.0");

        var reported = await rig.WaitForReportedAsync("Failed", "1.0.0");
        Assert.StartsWith("unknown-key:", reported.GetProperty("reason").GetString());
        var embedded = Assert.IsType<TestBroker.Embedded>(rig.Broker);
        Assert.DoesNotContain(embedded.Broker.Subscriptions, s => s.Topic.Contains("/blobs/", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(rig.StateDirectory, "models", "vibration")));
    }

    [Fact]
    public async Task Tampered_model_bytes_fail_the_deployment_and_the_previous_model_keeps_serving()
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync("1.0.0");

        // 1.0.1 is correctly signed, but the chunk on the broker is not the signed one.
        var next = rig.BuildBundle("1.0.1", variant: 1);
        var file = next.Manifest.ModelFile!;
        var tampered = File.ReadAllBytes(rig.ModelVariant(1));
        tampered[^1] ^= 0xFF;
        await rig.PublishRawAsync(Topics.Blob(file.Sha256, 0), tampered);
        await rig.PublishRawAsync(Topics.Manifest("vibration", "1.0.1"), next.Envelope);
        await rig.DeployAsync("1.0.1");

        var reported = await rig.WaitForReportedAsync("Failed", "1.0.1");
        Assert.StartsWith("hash-mismatch:", reported.GetProperty("reason").GetString());
        Assert.Equal("1.0.0", reported.GetProperty("activeVersion").GetString());
        using var api = rig.Api();
        var (status, body) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
        Assert.Equal(200, status);
        Assert.Equal("1.0.0", body.RootElement.GetProperty("model_version").GetString());
        Assert.False(File.Exists(Path.Combine(rig.StateDirectory, "blobs", file.Sha256)));
    }

    [Fact]
    public async Task Going_back_to_the_serving_version_after_a_failed_upgrade_restores_Active_without_fetching()
    {
        await using var rig = await AgentRig.StartAsync(await TestBroker.EmbeddedAsync(), overrides: new() { ["Agent:FetchTimeoutSeconds"] = "1", ["Agent:MaxAttempts"] = "1" });
        var bundle = await rig.DeployActiveAsync("1.0.0");
        await rig.DeployAsync("1.0.1");
        await rig.WaitForReportedAsync("Failed", "1.0.1");
        var embedded = Assert.IsType<TestBroker.Embedded>(rig.Broker);
        var manifestTopic = Topics.Manifest("vibration", "1.0.0");
        var before = embedded.Broker.Subscriptions.Count(s => s.Topic == manifestTopic);

        await rig.DeployAsync("1.0.0");

        var reported = await rig.WaitForReportedAsync("Active", "1.0.0");
        Assert.Equal("1.0.0", reported.GetProperty("activeVersion").GetString());
        Assert.Equal(before, embedded.Broker.Subscriptions.Count(s => s.Topic == manifestTopic));
        Assert.NotNull(bundle);
    }

    [Fact]
    public async Task A_model_removed_from_desired_state_stops_serving_and_leaves_reported()
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync("1.0.0");

        await rig.PublishRawAsync(Topics.DeviceDesired(AgentRig.DeviceId), Encoding.UTF8.GetBytes("""{"models":[]}"""));

        await Wait.UntilAsync(() => rig.LastMessage("reported") is { } doc && doc.RootElement.GetProperty("models").GetArrayLength() == 0, Wait.Default, "reported without the model");
        using var api = rig.Api();
        var (status, _) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
        Assert.Equal(404, status);
        // Events come through the outbox, after the reported state that is published directly.
        await Wait.UntilAsync(() => rig.Messages("events").Any(e => e.RootElement.GetProperty("state").GetString() == "Removed"), Wait.Default, "the event");
    }

    [Fact]
    public async Task A_rollout_survives_a_manifest_that_is_published_late()
    {
        await using var rig = await AgentRig.StartAsync(overrides: new() { ["Agent:FetchTimeoutSeconds"] = "1", ["Agent:MaxAttempts"] = "1" });
        await rig.DeployAsync("1.0.0");
        var failed = await rig.WaitForReportedAsync("Failed", "1.0.0");

        // Not final, and the device says so: a rollout keeps waiting for it instead of counting a failure.
        Assert.StartsWith("timeout: ", failed.GetProperty("reason").GetString());
        Assert.True(failed.GetProperty("retrying").GetBoolean());
        await rig.PublishAsync(rig.BuildBundle("1.0.0"));

        await rig.WaitForReportedAsync("Active", "1.0.0");
    }

    [Fact]
    public async Task Publishing_desired_state_again_retries_a_version_that_failed_for_good()
    {
        await using var rig = await AgentRig.StartAsync();
        var stranger = Fleet.Keys.SigningKeys.Generate(Path.Combine(rig.Work, "stranger"), "stranger");
        await rig.PublishAsync(rig.BuildBundle("1.0.0", keyPath: stranger.PrivateKeyPath));
        await rig.DeployAsync("1.0.0");
        await rig.WaitForReportedAsync("Failed", "1.0.0");

        // The operator re-signs the bundle with the device's key and deploys the same version again.
        await rig.PublishAsync(rig.BuildBundle("1.0.0"));
        await rig.DeployAsync("1.0.0");

        await rig.WaitForReportedAsync("Active", "1.0.0");
    }

    [Fact]
    public async Task A_second_agent_on_the_same_state_directory_refuses_to_start()
    {
        await using var rig = await AgentRig.StartAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agent:DeviceId"] = AgentRig.DeviceId,
            ["Agent:StateDirectory"] = rig.StateDirectory,
            ["Agent:ApiSocket"] = rig.Socket,
            ["Mqtt:Url"] = rig.Broker.Url,
            ["Trust:PublicKeys:0"] = rig.Keys.PublicKeyPath,
        }).Build();

        var error = Assert.Throws<IOException>(() => { AgentHost.Build(configuration); });

        Assert.Contains("already running", error.Message, StringComparison.Ordinal);
        using var api = rig.Api();
        Assert.Equal(200, (await api.GetAsync("/v2/health/ready")).Status);
    }

    [Fact]
    public async Task A_rollback_in_desired_state_cancels_a_download_in_progress()
    {
        await using var rig = await AgentRig.StartAsync(overrides: new() { ["Agent:FetchTimeoutSeconds"] = "60" });
        await rig.DeployActiveAsync("1.0.0");
        var stuck = rig.BuildBundle("2.0.0", variant: 4);
        await rig.PublishRawAsync(Topics.Manifest("vibration", "2.0.0"), stuck.Envelope); // its chunks never come
        await rig.DeployAsync("2.0.0");
        await rig.WaitForReportedAsync("Fetching", "2.0.0");
        var started = System.Diagnostics.Stopwatch.StartNew();

        await rig.DeployAsync("1.0.0");

        await rig.WaitForReportedAsync("Active", "1.0.0", TimeSpan.FromSeconds(20));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(20), "the rollback did not wait for the stuck download to time out");
        // Events come through the outbox, after the reported state that is published directly.
        await Wait.UntilAsync(() => rig.Messages("events").Any(e => e.RootElement.TryGetProperty("reason", out var r) && r.GetString()!.StartsWith("superseded", StringComparison.Ordinal)), Wait.Default, "the event");
    }

    [Fact]
    public async Task A_device_that_needs_two_signatures_refuses_one_and_takes_a_co_signed_bundle()
    {
        var work = Directory.CreateTempSubdirectory("edgeagent-threshold-").FullName;
        var second = Fleet.Keys.SigningKeys.Generate(work, "second");
        await using var rig = await AgentRig.StartAsync(overrides: new() { ["Trust:PublicKeys:1"] = second.PublicKeyPath, ["Trust:Threshold"] = "2" });
        var single = rig.BuildBundle("1.0.0");
        await rig.PublishAsync(single);
        await rig.DeployAsync("1.0.0");
        var refused = await rig.WaitForReportedAsync("Failed", "1.0.0");
        Assert.StartsWith("below-threshold:", refused.GetProperty("reason").GetString());

        using (var key = Fleet.Keys.SigningKeys.LoadPrivate(second.PrivateKeyPath))
        {
            Fleet.Bundles.BundleCoSigner.AddSignature(single.Path, key, single.Path, DateTimeOffset.UtcNow);
        }

        await rig.PublishAsync(single with { Envelope = Core.Bundles.BundleArchive.ReadEnvelope(single.Path) });
        await rig.DeployAsync("1.0.0");

        await rig.WaitForReportedAsync("Active", "1.0.0");
        Directory.Delete(work, recursive: true);
    }

    [Fact]
    public async Task A_downgrade_is_refused_even_after_a_restart_until_a_signed_rollback_is_published()
    {
        // Nothing kept for rollback: 1.0.0 is gone from the device, so asking for it again is a downgrade.
        await using var rig = await AgentRig.StartAsync(overrides: new() { ["Agent:KeepPreviousVersions"] = "0" });
        await rig.DeployActiveAsync("1.0.0");
        await rig.DeployActiveAsync("2.0.0", variant: 5);
        await rig.StopAgentAsync();
        await rig.StartAgentAsync();

        await rig.DeployAsync("1.0.0");

        var refused = await rig.WaitForReportedAsync("Failed", "1.0.0");
        Assert.StartsWith("downgrade:", refused.GetProperty("reason").GetString());
        Assert.Equal("2.0.0", refused.GetProperty("activeVersion").GetString());

        // The operator signs 1.0.0 as a deliberate rollback from 2.0.0 and deploys it again.
        using (var key = Fleet.Keys.SigningKeys.LoadPrivate(rig.Keys.PrivateKeyPath))
        {
            var rollback = Fleet.Bundles.BundleBuilder.Create(new Fleet.Bundles.BundleBuilder.Request
            {
                ModelPath = AgentRig.SampleModel,
                Name = AgentRig.Model,
                Version = "1.0.0",
                Keys = [key],
                OutPath = Path.Combine(rig.Work, "rollback.edgebundle"),
                RollbackOf = "2.0.0",
            });
            await rig.PublishAsync(rollback);
        }

        await rig.DeployAsync("1.0.0");
        await rig.WaitForReportedAsync("Active", "1.0.0");
    }

    [Fact]
    public async Task A_root_published_on_mqtt_rotates_the_keys_and_the_revoked_key_signs_nothing_that_deploys()
    {
        var work = Directory.CreateTempSubdirectory("edgeagent-root-").FullName;
        var first = Fleet.Keys.SigningKeys.Generate(work, "first");
        var next = Fleet.Keys.SigningKeys.Generate(work, "next");
        using var firstKey = Fleet.Keys.SigningKeys.LoadPrivate(first.PrivateKeyPath);
        using var nextKey = Fleet.Keys.SigningKeys.LoadPrivate(next.PrivateKeyPath);
        var v1 = Fleet.Keys.TrustRootFiles.Write(new Fleet.Keys.TrustRootFiles.Request { PublicKeyPaths = [first.PublicKeyPath], Threshold = 1, Signers = [firstKey], OutPath = Path.Combine(work, "root-v1.json") });
        Assert.Equal(1, v1.Version);
        await using var rig = await AgentRig.StartAsync(overrides: new() { ["Trust:PublicKeys:0"] = null, ["Trust:Root"] = Path.Combine(work, "root-v1.json") });
        await rig.PublishAsync(rig.BuildBundle("1.0.0", keyPath: first.PrivateKeyPath));
        await rig.DeployAsync("1.0.0");
        await rig.WaitForReportedAsync("Active", "1.0.0");

        Fleet.Keys.TrustRootFiles.Write(new Fleet.Keys.TrustRootFiles.Request { CurrentPath = Path.Combine(work, "root-v1.json"), PublicKeyPaths = [next.PublicKeyPath], Threshold = 1, Signers = [firstKey, nextKey], OutPath = Path.Combine(work, "root-v2.json") });
        await rig.PublishRawAsync(Topics.TrustRoot(), File.ReadAllBytes(Path.Combine(work, "root-v2.json")));
        await Wait.UntilAsync(() => rig.LastMessage("reported") is { } doc && doc.RootElement.TryGetProperty("trustRoot", out var root) && root.GetProperty("version").GetInt32() == 2, Wait.Default, "reported trust root v2");

        // Events come through the outbox, after the reported state that is published directly.
        await Wait.UntilAsync(() => rig.Messages("events").Any(e => e.RootElement.GetProperty("type").GetString() == "trust-root" && e.RootElement.GetProperty("version").GetInt32() == 2), Wait.Default, "the event");

        // A forged root signed only by the revoked key is refused and reported.
        using (var stranger = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256))
        {
            var forged = Core.Bundles.TrustRoot.Sign(new Core.Bundles.TrustRootDocument { Version = 3, Threshold = 1, Keys = [new Core.Bundles.TrustRootKey(Core.Bundles.KeyIds.Of(stranger), stranger.ExportSubjectPublicKeyInfoPem())] }, [firstKey, stranger]);
            await rig.PublishRawAsync(Topics.TrustRoot(), System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(forged, Core.CoreJson.Options));
        }

        await Wait.UntilAsync(() => rig.LastMessage("reported") is { } doc && doc.RootElement.TryGetProperty("trustRootError", out var error) && error.GetString()!.StartsWith("unknown-key", StringComparison.Ordinal), Wait.Default, "the forged root refused in reported");
        await rig.PublishAsync(rig.BuildBundle("1.1.0", variant: 6, keyPath: first.PrivateKeyPath));
        await rig.DeployAsync("1.1.0");
        var refused = await rig.WaitForReportedAsync("Failed", "1.1.0");
        Assert.StartsWith("unknown-key:", refused.GetProperty("reason").GetString());

        await rig.PublishAsync(rig.BuildBundle("1.1.0", variant: 6, keyPath: next.PrivateKeyPath));
        await rig.DeployAsync("1.1.0");
        await rig.WaitForReportedAsync("Active", "1.1.0");
        Assert.True(File.Exists(Path.Combine(rig.StateDirectory, "trust-root.json")));
        Directory.Delete(work, recursive: true);
    }

    [Fact]
    public async Task A_new_version_replaces_the_serving_one()
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync("1.0.0");

        await rig.DeployActiveAsync("1.1.0", variant: 2);

        using var api = rig.Api();
        var (status, body) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
        Assert.Equal(200, status);
        Assert.Equal("1.1.0", body.RootElement.GetProperty("model_version").GetString());
    }

    [Fact]
    public async Task Malformed_desired_state_is_refused_and_the_agent_keeps_serving()
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync("1.0.0");

        await rig.PublishRawAsync(Topics.DeviceDesired(AgentRig.DeviceId), Encoding.UTF8.GetBytes("{\"models\": [{\"name\": \"vibration\", \"version\": 7}"));

        await Wait.UntilAsync(
            () => rig.LastMessage("reported") is { } doc
                && doc.RootElement.TryGetProperty("desiredError", out var error)
                && error.GetString()!.Contains("not valid JSON", StringComparison.Ordinal),
            Wait.Default,
            "reported desiredError");
        using var api = rig.Api();
        var (status, _) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
        Assert.Equal(200, status);
        var (_, agentStatus) = await api.GetAsync("/v1/status");
        Assert.Contains("not valid JSON", agentStatus.RootElement.GetProperty("desiredError").GetString(), StringComparison.Ordinal);
        Assert.Equal("1.0.0", agentStatus.RootElement.GetProperty("desired")[0].GetProperty("version").GetString());
    }

    [Fact]
    public async Task A_version_whose_manifest_never_appears_fails_with_a_timeout_reason()
    {
        await using var rig = await AgentRig.StartAsync(overrides: new() { ["Agent:FetchTimeoutSeconds"] = "1", ["Agent:MaxAttempts"] = "1" });

        await rig.DeployAsync("9.9.9");

        var reported = await rig.WaitForReportedAsync("Failed", "9.9.9");
        Assert.StartsWith("timeout:", reported.GetProperty("reason").GetString());
        Assert.Contains("bundles/vibration/9.9.9/manifest", reported.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restarted_agent_serves_its_active_model_from_disk_without_fetching_again()
    {
        await using var rig = await AgentRig.StartAsync(await TestBroker.EmbeddedAsync());
        var bundle = await rig.DeployActiveAsync("1.0.0");
        await rig.StopAgentAsync();
        var embedded = Assert.IsType<TestBroker.Embedded>(rig.Broker);
        var blobTopic = Topics.Blob(bundle.Manifest.ModelFile!.Sha256, 0);
        var before = embedded.Broker.Subscriptions.Count(s => s.Topic == blobTopic);

        await rig.StartAgentAsync();

        using var api = rig.Api();
        await Wait.UntilAsync(async () => (await api.GetAsync("/v2/models/vibration")).Status == 200, Wait.Default, "the model to be served after restart");
        var (status, body) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
        Assert.Equal(200, status);
        Assert.Equal("1.0.0", body.RootElement.GetProperty("model_version").GetString());
        Assert.Equal(before, embedded.Broker.Subscriptions.Count(s => s.Topic == blobTopic));
    }
}
