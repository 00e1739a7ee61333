using System.Text.Json;
using EdgeAgent.Agent.Deployment;
using EdgeAgent.Agent.Tests.Infrastructure;
using EdgeAgent.Core.Mqtt;

namespace EdgeAgent.Agent.Tests;

/// <summary>The deployment lifecycle beyond install: acceptance, probation and rollback, revert, groups, windows, retention.</summary>
public sealed class LifecycleTests
{
    private const string NegativeX = """{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[-1,4,9,16]}]}""";
    private static readonly Topics Topics = new(Topics.DefaultPrefix);

    [Fact]
    public async Task A_version_that_returns_NaN_in_probation_is_rolled_back_automatically_with_the_numbers()
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.PublishAsync(rig.BuildBundleOf(AgentRig.FixtureModel("twice.onnx"), "1.0.0"));
        await rig.DeployAsync("1.0.0");
        await rig.WaitForReportedAsync("Active", "1.0.0");

        await rig.PublishAsync(rig.BuildBundleOf(AgentRig.FixtureModel("sqrt.onnx"), "2.0.0"));
        await rig.PublishDesiredAsync("""{"models":[{"name":"vibration","version":"2.0.0","probationSeconds":120}]}""");
        var probation = await rig.WaitForReportedAsync("Probation", "2.0.0");
        Assert.Equal("2.0.0", probation.GetProperty("activeVersion").GetString());
        Assert.Equal("1.0.0", probation.GetProperty("previousVersion").GetString());

        // The new version serves during probation; a negative input makes it answer NaN.
        using var api = rig.Api();
        var (status, body) = await api.PostAsync("/v2/models/vibration/infer", NegativeX);
        Assert.Equal(200, status);
        Assert.Equal("2.0.0", body.RootElement.GetProperty("model_version").GetString());

        var rolledBack = await rig.WaitForReportedAsync("RolledBack", "2.0.0");
        Assert.Equal("1.0.0", rolledBack.GetProperty("activeVersion").GetString());
        var reason = rolledBack.GetProperty("reason").GetString()!;
        Assert.StartsWith("probation failed: 1 of 1 responses held NaN or Inf outputs", reason);
        Assert.Equal("RolledBack", rolledBack.GetProperty("lastFailure").GetProperty("state").GetString());

        (status, body) = await api.PostAsync("/v2/models/vibration/infer", NegativeX);
        Assert.Equal(200, status);
        Assert.Equal("1.0.0", body.RootElement.GetProperty("model_version").GetString());
        Assert.Equal([-2.0, 8, 18, 32], body.RootElement.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(e => e.GetDouble()));

        // Every transition is an event, the rollback with its reason.
        await Wait.UntilAsync(() => rig.Messages("events").Any(e => e.RootElement.GetProperty("state").GetString() == "RolledBack"), Wait.Default, "RolledBack event");
        Assert.Contains(rig.Messages("events"), e => e.RootElement.GetProperty("state").GetString() == "RollingBack" && e.RootElement.TryGetProperty("reason", out var r) && r.GetString()!.Contains("NaN", StringComparison.Ordinal));

        // Not retried on its own: the rollback stands until the operator publishes again.
        var passes = rig.Service<ReconcileLoop>().Passes;
        await Wait.UntilAsync(() => rig.Service<ReconcileLoop>().Passes >= passes + 3, Wait.Default, "three more loop passes");
        Assert.Equal("RolledBack", rig.ReportedModel()!.Value.GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_new_version_that_rejects_what_clients_send_is_rolled_back_on_its_error_rate()
    {
        await using var rig = await AgentRig.StartAsync(overrides: new() { ["Agent:ProbationMinRequests"] = "5" });
        await rig.DeployActiveAsync("1.0.0");
        using var api = rig.Api();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(200, (await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest)).Status);
        }

        // 2.0.0 expects another input: every request the clients send now fails.
        await rig.PublishAsync(rig.BuildBundleOf(AgentRig.FixtureModel("twice.onnx"), "2.0.0"));
        await rig.PublishDesiredAsync("""{"models":[{"name":"vibration","version":"2.0.0","probationSeconds":120}]}""");
        await rig.WaitForReportedAsync("Probation", "2.0.0");
        await Wait.UntilAsync(
            async () =>
            {
                var (status, _) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
                return rig.ReportedModel()?.GetProperty("state").GetString() == "RolledBack" || (status == 200 && rig.ReportedModel()?.GetProperty("activeVersion").GetString() == "1.0.0" && rig.ReportedModel()?.GetProperty("state").GetString() != "Probation");
            },
            Wait.Default,
            "the rollback");

        var rolledBack = await rig.WaitForReportedAsync("RolledBack", "2.0.0");
        Assert.Contains("error rate 100.0%", rolledBack.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("1.0.0", rolledBack.GetProperty("activeVersion").GetString());
        Assert.Equal(200, (await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest)).Status);
    }

    [Fact]
    public async Task A_model_that_fails_its_acceptance_vectors_never_serves_and_is_not_retried()
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync("1.0.0");

        // 2.0.0's acceptance file expects other outputs than the model computes.
        var acceptance = JsonNodeOf(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "samples", "acceptance.json")));
        var wrong = acceptance.Replace("\"data\":[0", "\"data\":[2", StringComparison.Ordinal);
        Assert.NotEqual(acceptance, wrong);
        var path = Path.Combine(rig.Work, "wrong-acceptance.json");
        await File.WriteAllTextAsync(path, wrong, TestContext.Current.CancellationToken);
        await rig.PublishAsync(rig.BuildBundleOf(rig.ModelVariant(3), "2.0.0", acceptancePath: path));
        await rig.DeployAsync("2.0.0");

        var failed = await rig.WaitForReportedAsync("Failed", "2.0.0");
        Assert.StartsWith("acceptance-failed: vector ", failed.GetProperty("reason").GetString());
        Assert.Equal("1.0.0", failed.GetProperty("activeVersion").GetString());
        using var api = rig.Api();
        var (_, body) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
        Assert.Equal("1.0.0", body.RootElement.GetProperty("model_version").GetString());

        var passes = rig.Service<ReconcileLoop>().Passes;
        await Wait.UntilAsync(() => rig.Service<ReconcileLoop>().Passes >= passes + 3, Wait.Default, "three more loop passes");
        Assert.Equal(1, rig.ReportedModel()!.Value.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task A_version_passes_probation_and_going_back_to_the_kept_one_needs_no_download()
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync("1.0.0");
        await rig.PublishAsync(rig.BuildBundle("2.0.0", variant: 2));
        await rig.PublishDesiredAsync("""{"models":[{"name":"vibration","version":"2.0.0","probationSeconds":1}]}""");
        await rig.WaitForReportedAsync("Probation", "2.0.0");
        var active = await rig.WaitForReportedAsync("Active", "2.0.0");
        Assert.Equal("1.0.0", active.GetProperty("previousVersion").GetString());
        // Events come through the outbox, after the reported state that is published directly.
        await Wait.UntilAsync(() => rig.Messages("events").Any(e => e.RootElement.GetProperty("state").GetString() == "Active" && e.RootElement.TryGetProperty("reason", out var r) && r.GetString()!.StartsWith("probation passed", StringComparison.Ordinal)), Wait.Default, "the event");

        // The operator aborts: 1.0.0 is no longer on the broker, the device still has it.
        await rig.PublishRawAsync(Topics.Manifest("vibration", "1.0.0"), []);
        await rig.DeployAsync("1.0.0");
        var reverted = await rig.WaitForReportedAsync("Active", "1.0.0");
        Assert.Equal("1.0.0", reverted.GetProperty("activeVersion").GetString());
        Assert.Equal("2.0.0", reverted.GetProperty("previousVersion").GetString());
        using var api = rig.Api();
        var (_, body) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
        Assert.Equal("1.0.0", body.RootElement.GetProperty("model_version").GetString());
    }

    [Fact]
    public async Task Group_desired_state_deploys_and_the_device_entry_wins()
    {
        await using var rig = await AgentRig.StartAsync(overrides: new() { ["Agent:Groups:0"] = "line-a", ["Agent:Groups:1"] = "plant-1" });
        await rig.PublishAsync(rig.BuildBundle("1.0.0"));
        await rig.PublishAsync(rig.BuildBundle("2.0.0", variant: 2));
        await rig.PublishAsync(rig.BuildBundle("3.0.0", variant: 3));

        await rig.PublishRawAsync(Topics.GroupDesired("plant-1"), """{"models":[{"name":"vibration","version":"1.0.0"}]}"""u8.ToArray());
        await rig.WaitForReportedAsync("Active", "1.0.0");

        // An earlier group in Agent:Groups wins over a later one.
        await rig.PublishRawAsync(Topics.GroupDesired("line-a"), """{"models":[{"name":"vibration","version":"2.0.0"}]}"""u8.ToArray());
        await rig.WaitForReportedAsync("Active", "2.0.0");

        // The device's own entry wins over every group.
        await rig.DeployAsync("3.0.0");
        await rig.WaitForReportedAsync("Active", "3.0.0");
        await rig.PublishRawAsync(Topics.GroupDesired("line-a"), """{"models":[{"name":"vibration","version":"1.0.0"}]}"""u8.ToArray());
        var passes = rig.Service<ReconcileLoop>().Passes;
        await Wait.UntilAsync(() => rig.Service<ReconcileLoop>().Passes >= passes + 2, Wait.Default, "two more loop passes");
        Assert.Equal("3.0.0", rig.ReportedModel()!.Value.GetProperty("activeVersion").GetString());
        var groups = rig.LastMessage("reported")!.RootElement.GetProperty("groups").EnumerateArray().Select(g => g.GetString());
        Assert.Equal(["line-a", "plant-1"], groups);
    }

    [Fact]
    public async Task Malformed_desired_state_is_an_event_and_the_last_good_one_keeps_serving()
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync("1.0.0");

        await rig.PublishDesiredAsync("""{"models":[{"name":"vibration","version":"2.0.0","activateAfter":"tomorrow"}]}""");
        await Wait.UntilAsync(() => rig.Messages("events").Any(e => e.RootElement.GetProperty("type").GetString() == "rejected"), Wait.Default, "a rejected event");
        var rejected = rig.Messages("events").Last(e => e.RootElement.GetProperty("type").GetString() == "rejected").RootElement;
        Assert.Equal(Topics.DeviceDesired(AgentRig.DeviceId), rejected.GetProperty("topic").GetString());
        Assert.Contains("activateAfter", rejected.GetProperty("reason").GetString(), StringComparison.Ordinal);
        await Wait.UntilAsync(() => rig.LastMessage("reported")?.RootElement.GetProperty("desiredError").ValueKind == JsonValueKind.String, Wait.Default, "desiredError in reported");

        using var api = rig.Api();
        var (status, body) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
        Assert.Equal(200, status);
        Assert.Equal("1.0.0", body.RootElement.GetProperty("model_version").GetString());
    }

    [Fact]
    public async Task A_version_with_activateAfter_is_staged_first_and_activates_at_its_time()
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync("1.0.0");
        await rig.PublishAsync(rig.BuildBundle("2.0.0", variant: 2));
        var at = DateTimeOffset.UtcNow.AddSeconds(3);
        await rig.PublishDesiredAsync($$"""{"models":[{"name":"vibration","version":"2.0.0","activateAfter":"{{at:O}}"}]}""");

        var staged = await rig.WaitForReportedAsync("Staged", "2.0.0");
        Assert.Equal("1.0.0", staged.GetProperty("activeVersion").GetString());
        Assert.True(File.Exists(Path.Combine(rig.StateDirectory, "models", "vibration", "2.0.0", "model.onnx")));
        var active = await rig.WaitForReportedAsync("Active", "2.0.0");
        Assert.True(DateTimeOffset.Parse(active.GetProperty("updated").GetString()!, System.Globalization.CultureInfo.InvariantCulture) >= at);
    }

    [Fact]
    public async Task Old_versions_and_downloads_are_deleted_beyond_the_kept_count()
    {
        await using var rig = await AgentRig.StartAsync(overrides: new() { ["Agent:KeepPreviousVersions"] = "1" });
        await rig.DeployActiveAsync("1.0.0");
        await rig.DeployActiveAsync("2.0.0", variant: 2);
        await rig.DeployActiveAsync("3.0.0", variant: 3);

        await Wait.UntilAsync(
            () => Directory.GetDirectories(Path.Combine(rig.StateDirectory, "models", "vibration")).Length == 2,
            Wait.Default,
            "1.0.0 to be deleted");
        Assert.Equal(["2.0.0", "3.0.0"], Directory.GetDirectories(Path.Combine(rig.StateDirectory, "models", "vibration")).Select(d => Path.GetFileName(d)!).Order());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(rig.StateDirectory, "blobs")));
        // reported is published after the deletion: wait for the document that says so.
        await Wait.UntilAsync(
            () => rig.ReportedModel() is { } m && m.GetProperty("retained").EnumerateArray().Select(v => v.GetString()).SequenceEqual(["2.0.0"]),
            Wait.Default,
            "reported to list only 2.0.0 as retained");
    }

    [Fact]
    public async Task A_broker_restart_in_the_middle_of_a_download_resumes_it_without_fetching_it_twice()
    {
        var port = Fleet.Mqtt.EmbeddedBroker.FreePort();
        var work = Directory.CreateTempSubdirectory("edgeagent-restart-").FullName;
        var mosquitto = Environment.GetEnvironmentVariable("EDGEAGENT_TEST_BROKER") == "mosquitto";
        await using var rig = await AgentRig.StartAsync(
            mosquitto ? await TestBroker.MosquittoAsync(work, port, persistent: true) : await TestBroker.EmbeddedAsync(port),
            overrides: new() { ["Agent:MaxFetchBytesPerSecond"] = "65536", ["Agent:FetchTimeoutSeconds"] = "10" });
        var bundle = rig.BuildBundleOf(AgentRig.FixtureModel("dense.onnx"), "1.0.0", chunkSize: 4096);
        var size = bundle.Manifest.ModelFile!.Length;
        await rig.PublishAsync(bundle);
        await rig.DeployAsync("1.0.0");
        await Wait.UntilAsync(() => rig.ReportedModel() is { } m && m.TryGetProperty("progress", out var p) && p.ValueKind == JsonValueKind.Object && p.GetProperty("bytes").GetInt64() > size / 5, Wait.Default, "a fifth of the download");

        // The broker goes away mid-download and comes back with its retained messages: mosquitto restarted with
        // persistence on; the embedded broker has none, so the operator's messages are published again.
        if (rig.Broker is TestBroker.Mosquitto real)
        {
            await real.RestartAsync();
            await rig.ConnectOperatorAsync();
        }
        else
        {
            await rig.Broker.DisposeAsync();
            await rig.ReplaceBrokerAsync(await TestBroker.EmbeddedAsync(port));
            await rig.PublishAsync(bundle);
            await rig.DeployAsync("1.0.0");
        }

        await rig.WaitForReportedAsync("Active", "1.0.0", TimeSpan.FromSeconds(60));
        var received = rig.Service<ChunkFetcher>().BytesReceived;
        Assert.InRange(received, size, size * 105 / 100);
        Assert.True(rig.Service<Mqtt.MqttSession>().Reconnects >= 1);
        Directory.Delete(work, recursive: true);
    }

    [Fact]
    public async Task A_file_the_device_already_holds_is_never_fetched_again()
    {
        var embedded = await TestBroker.EmbeddedAsync();
        await using var rig = await AgentRig.StartAsync(embedded);
        await rig.DeployActiveAsync("1.0.0");
        var broker = ((TestBroker.Embedded)embedded).Broker;
        var blobRequests = broker.Subscriptions.Count(s => s.Topic.Contains("/blobs/", StringComparison.Ordinal));
        Assert.True(blobRequests > 0);

        // 2.0.0 ships the very same model file (same sha256): installed from the copy 1.0.0 holds.
        await rig.DeployActiveAsync("2.0.0");
        Assert.Equal(blobRequests, broker.Subscriptions.Count(s => s.Topic.Contains("/blobs/", StringComparison.Ordinal)));
        Assert.True(File.Exists(Path.Combine(rig.StateDirectory, "models", "vibration", "2.0.0", "model.onnx")));
    }

    [Fact]
    public async Task A_pinned_version_that_was_rolled_back_is_not_brought_back_by_a_fleet_publish()
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.PublishAsync(rig.BuildBundleOf(AgentRig.FixtureModel("twice.onnx"), "1.0.0"));
        await rig.DeployAsync("1.0.0");
        await rig.WaitForReportedAsync("Active", "1.0.0");

        // Sideloaded 2.0.0 answers NaN under traffic and is rolled back; it stays pinned.
        var bad = rig.BuildBundleOf(AgentRig.FixtureModel("sqrt.onnx"), "2.0.0");
        await using (var upload = File.OpenRead(bad.Path))
        {
            await rig.Service<SideloadInstaller>().InstallAsync(upload, upload.Length, probationSeconds: 60, TestContext.Current.CancellationToken);
        }

        await rig.WaitForReportedAsync("Probation", "2.0.0");
        using var api = rig.Api();
        await api.PostAsync("/v2/models/vibration/infer", NegativeX);
        var rolledBack = await rig.WaitForReportedAsync("RolledBack", "2.0.0");
        Assert.True(rolledBack.GetProperty("pinned").GetBoolean());

        // The operator publishes the device's desired state again (for this or any model): the pin still decides this
        // model, and its rolled-back version is not tried again.
        await rig.DeployAsync("1.0.0");
        var passes = rig.Service<ReconcileLoop>().Passes;
        await Wait.UntilAsync(() => rig.Service<ReconcileLoop>().Passes >= passes + 3, Wait.Default, "three more loop passes");
        var model = rig.ReportedModel()!.Value;
        Assert.Equal("RolledBack", model.GetProperty("state").GetString());
        Assert.Equal("1.0.0", model.GetProperty("activeVersion").GetString());
    }

    private static string JsonNodeOf(string json) => System.Text.Json.Nodes.JsonNode.Parse(json)!.ToJsonString();
}
