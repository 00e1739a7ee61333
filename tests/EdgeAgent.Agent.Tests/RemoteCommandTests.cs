using System.Buffers;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeAgent.Agent.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeAgent.Agent.Tests;

/// <summary>Remote commands on {p}/devices/{id}/cmd/{verb}, MQTT 5 request/response, against a real agent and broker.</summary>
public sealed class RemoteCommandTests
{
    private const string Commands = "edgeagent/v1/devices/dev-1/cmd";

    /// <summary>No periodic heartbeat during a test (the first is an hour after start): a heartbeat seen came from a command.</summary>
    private static Dictionary<string, string?> NoPeriodicHeartbeat() => new() { ["Telemetry:HealthIntervalSeconds"] = "3600" };

    [Fact]
    public async Task Report_now_is_answered_on_the_response_topic_with_the_correlation_data_and_publishes_a_heartbeat()
    {
        await using var rig = await AgentRig.StartAsync(overrides: NoPeriodicHeartbeat());
        await WaitForCommandsAsync(rig);
        var reportedBefore = rig.Messages("reported").Count();
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithConnectionUri(rig.Broker.Url).WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build(), TestContext.Current.CancellationToken);
        var answers = new List<MqttApplicationMessage>();
        client.ApplicationMessageReceivedAsync += e =>
        {
            lock (answers)
            {
                answers.Add(e.ApplicationMessage);
            }

            return Task.CompletedTask;
        };
        const string responseTopic = "edgeagent/v1/devices/dev-1/responses/test-report-now";
        await client.SubscribeAsync(responseTopic, MqttQualityOfServiceLevel.AtLeastOnce, TestContext.Current.CancellationToken);
        byte[] correlation = [0xC0, 0xFF, 0xEE, 0x00, 0x01, 0x02];

        await client.PublishAsync(
            new MqttApplicationMessageBuilder().WithTopic($"{Commands}/report-now").WithResponseTopic(responseTopic).WithCorrelationData(correlation).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(),
            TestContext.Current.CancellationToken);

        var answer = await Wait.ForAsync(
            () =>
            {
                lock (answers)
                {
                    return answers.FirstOrDefault();
                }
            },
            Wait.Default,
            "the answer to report-now");
        Assert.Equal(correlation, answer.CorrelationData);
        Assert.False(answer.Retain);
        Assert.Equal("application/json", answer.ContentType);
        using var doc = JsonDocument.Parse(answer.Payload.ToArray());
        var root = doc.RootElement;
        Assert.True(root.GetProperty("ok").GetBoolean());
        Assert.Equal("report-now", root.GetProperty("verb").GetString());
        Assert.True(root.GetProperty("published").GetBoolean());
        var health = root.GetProperty("health");
        Assert.Equal(AgentRig.DeviceId, health.GetProperty("deviceId").GetString());
        Assert.True(health.GetProperty("rssBytes").GetInt64() > 0);

        // The same heartbeat went out on the health topic, and the reported document was published again.
        var timestamp = health.GetProperty("timestamp").GetString();
        await Wait.UntilAsync(() => rig.Messages("health").Any(h => h.RootElement.GetProperty("timestamp").GetString() == timestamp), Wait.Default, "the heartbeat of report-now on the health topic");
        await Wait.UntilAsync(() => rig.Messages("reported").Count() > reportedBefore, Wait.Default, "reported published again");
    }

    [Fact]
    public async Task Support_bundle_is_answered_with_a_tar_gz_holding_status_config_logs_and_state_and_no_secret()
    {
        const string secret = "s3cr3t-broker-password-from-file";
        var credentials = Directory.CreateTempSubdirectory("edgeagent-credentials-").FullName;
        var passwordFile = Path.Combine(credentials, "mqtt-password");
        await File.WriteAllTextAsync(passwordFile, secret + "\n", TestContext.Current.CancellationToken);
        await using var rig = await AgentRig.StartAsync(overrides: new() { ["Mqtt:Username"] = "dev-1", ["Mqtt:PasswordFile"] = passwordFile });
        await rig.DeployActiveAsync();

        var outcome = await rig.Operator!.RequestAsync($"{Commands}/support-bundle", "{}"u8.ToArray(), "edgeagent/v1/devices/dev-1/responses/test-bundle", Wait.Default, cancellationToken: TestContext.Current.CancellationToken);

        Assert.False(outcome.NoSubscribers);
        using var doc = JsonDocument.Parse(Assert.IsType<byte[]>(outcome.Answer));
        var root = doc.RootElement;
        Assert.True(root.GetProperty("ok").GetBoolean(), root.ToString());
        Assert.Equal("support-bundle", root.GetProperty("verb").GetString());
        var bundle = Convert.FromBase64String(root.GetProperty("bundle").GetString()!);
        Assert.Equal(bundle.Length, root.GetProperty("bytes").GetInt32());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bundle)), root.GetProperty("sha256").GetString());
        Assert.Matches(@"^support-bundle-dev-1-\d{8}T\d{6}Z\.tar\.gz$", root.GetProperty("fileName").GetString());

        var files = ReadTarGz(bundle);
        var folder = root.GetProperty("fileName").GetString()![..^".tar.gz".Length];
        Assert.All(files.Keys, name => Assert.StartsWith(folder + "/", name, StringComparison.Ordinal));
        var names = files.Keys.Select(n => n[(folder.Length + 1)..]).ToHashSet();
        Assert.Superset(new HashSet<string> { "status.json", "health.json", "config.json", "versions.json", "logs.txt", "state-files.txt", "state/deployments.json" }, names);
        Assert.Equal(names.Order(), root.GetProperty("entries").EnumerateArray().Select(e => e.GetString()!).Order());

        using (var status = JsonDocument.Parse(files[$"{folder}/status.json"]))
        {
            Assert.Equal("dev-1", status.RootElement.GetProperty("deviceId").GetString());
        }

        using (var config = JsonDocument.Parse(files[$"{folder}/config.json"]))
        {
            Assert.Equal(passwordFile, config.RootElement.GetProperty("Mqtt:PasswordFile").GetString());
            Assert.Equal(rig.Keys.PublicKeyPath, config.RootElement.GetProperty("Trust:PublicKeys:0").GetString());
        }

        Assert.Contains("Connected to", Encoding.UTF8.GetString(files[$"{folder}/logs.txt"]), StringComparison.Ordinal);
        Assert.Contains("vibration", Encoding.UTF8.GetString(files[$"{folder}/state/deployments.json"]), StringComparison.Ordinal);
        Assert.Contains("deployments.json", Encoding.UTF8.GetString(files[$"{folder}/state-files.txt"]), StringComparison.Ordinal);
        using (var versions = JsonDocument.Parse(files[$"{folder}/versions.json"]))
        {
            Assert.StartsWith("1.", versions.RootElement.GetProperty("onnxRuntime").GetString(), StringComparison.Ordinal);
        }

        // The password file's content is nowhere: not in any entry, not in the answer.
        Assert.All(files, f => Assert.DoesNotContain(secret, Encoding.UTF8.GetString(f.Value), StringComparison.Ordinal));
        Assert.DoesNotContain(secret, root.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", string.Concat(files.Values.Select(Encoding.UTF8.GetString)), StringComparison.Ordinal);
        Directory.Delete(credentials, recursive: true);
    }

    [Fact]
    public async Task Support_bundle_larger_than_the_cap_is_answered_ok_false()
    {
        await using var rig = await AgentRig.StartAsync(overrides: new() { ["Agent:SupportBundleMaxBytes"] = "1024" });
        await WaitForCommandsAsync(rig);

        var answer = await AskAsync(rig, "support-bundle");

        Assert.False(answer.GetProperty("ok").GetBoolean());
        Assert.Equal("support-bundle", answer.GetProperty("verb").GetString());
        Assert.Contains("more than Agent:SupportBundleMaxBytes (1024)", answer.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.False(answer.TryGetProperty("bundle", out _));
    }

    [Fact]
    public async Task Unknown_verb_is_answered_ok_false_naming_the_verbs_the_agent_knows()
    {
        await using var rig = await AgentRig.StartAsync();
        await WaitForCommandsAsync(rig);

        var answer = await AskAsync(rig, "reboot");

        Assert.False(answer.GetProperty("ok").GetBoolean());
        Assert.Equal("reboot", answer.GetProperty("verb").GetString());
        Assert.Equal("unknown verb 'reboot' (this agent knows: capture-export, report-now, support-bundle)", answer.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_command_without_a_response_topic_runs_unanswered_and_a_retained_command_is_ignored()
    {
        await using var rig = await AgentRig.StartAsync(overrides: NoPeriodicHeartbeat(), startAgent: false);

        // Retained before the agent starts: delivered with the retain flag at subscribe time, so it must not run.
        await rig.PublishRawAsync($"{Commands}/report-now", "{}"u8.ToArray(), retain: true);
        await rig.StartAgentAsync();
        await Wait.UntilAsync(() => rig.Logs.Any(l => l.Contains("Ignored the retained remote command report-now", StringComparison.Ordinal)), Wait.Default, "the retained command to be ignored");
        Assert.Empty(rig.Messages("health"));

        await rig.PublishRawAsync($"{Commands}/report-now", "{}"u8.ToArray(), retain: false);

        await Wait.UntilAsync(() => rig.Messages("health").Any(), Wait.Default, "the heartbeat of report-now");
        await Wait.UntilAsync(() => rig.Logs.Any(l => l.Contains("Remote command report-now done", StringComparison.Ordinal) && l.Contains("answered: False", StringComparison.Ordinal)), Wait.Default, "report-now done without an answer");
    }

    [Fact]
    public async Task Capture_export_hands_captured_samples_to_the_fleet_in_pages_and_purges_what_was_collected()
    {
        await using var rig = await AgentRig.StartAsync(overrides: new()
        {
            ["Capture:Enabled"] = "true",
            ["Capture:LowConfidence:0:Model"] = AgentRig.Model,
            ["Capture:LowConfidence:0:Output"] = "probabilities",
            ["Capture:LowConfidence:0:Below"] = "1.1",
        });
        await rig.DeployActiveAsync();
        using var api = rig.Api();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(200, (await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest)).Status);
        }

        await Wait.UntilAsync(async () => (await api.GetAsync("/v1/status")).Body.RootElement.GetProperty("capture").GetProperty("samples").GetInt32() == 3, Wait.Default, "three captured samples");
        await WaitForCommandsAsync(rig);

        var first = await AskAsync(rig, "capture-export", """{"limit":2}""");
        Assert.True(first.GetProperty("ok").GetBoolean(), first.ToString());
        Assert.Equal(2, first.GetProperty("samples").GetArrayLength());
        Assert.True(first.GetProperty("more").GetBoolean());
        var sample = first.GetProperty("samples")[0];
        Assert.Equal("low-confidence", sample.GetProperty("reason").GetString());
        Assert.Equal(24, sample.GetProperty("request").GetProperty("inputs")[0].GetProperty("data").GetArrayLength());

        // The next page acknowledges the first: those two are deleted on the device.
        var next = first.GetProperty("next").GetInt64();
        var second = await AskAsync(rig, "capture-export", $$"""{"after":{{next}},"purgeUpTo":{{next}}}""");
        Assert.True(second.GetProperty("ok").GetBoolean(), second.ToString());
        Assert.Equal(1, second.GetProperty("samples").GetArrayLength());
        Assert.False(second.GetProperty("more").GetBoolean());
        Assert.Equal(2, second.GetProperty("purged").GetInt32());
        Assert.Equal(1, second.GetProperty("count").GetInt32());

        var bad = await AskAsync(rig, "capture-export", """{"limit":"all"}""");
        Assert.False(bad.GetProperty("ok").GetBoolean());
        Assert.Equal("'limit' must be a whole number from 1 to 10000", bad.GetProperty("error").GetString());
    }

    /// <summary>Commands are answered once the agent subscribed to them (the standing subscriptions follow the birth).</summary>
    private static Task WaitForCommandsAsync(AgentRig rig) =>
        Wait.UntilAsync(
            async () => (await rig.Operator!.RequestAsync($"{Commands}/ping-{Guid.NewGuid():N}", "{}"u8.ToArray(), "edgeagent/v1/devices/dev-1/responses/test-ready", TimeSpan.FromSeconds(2), cancellationToken: TestContext.Current.CancellationToken)).Answer is not null,
            Wait.Default,
            "the agent to answer commands");

    private static async Task<JsonElement> AskAsync(AgentRig rig, string verb, string payload = "{}")
    {
        var outcome = await rig.Operator!.RequestAsync($"{Commands}/{verb}", Encoding.UTF8.GetBytes(payload), $"edgeagent/v1/devices/dev-1/responses/test-{verb}", Wait.Default, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(outcome.Answer is not null, $"no answer to {verb} ({rig.Diagnostics()})");
        using var doc = JsonDocument.Parse(outcome.Answer);
        return doc.RootElement.Clone();
    }

    private static Dictionary<string, byte[]> ReadTarGz(byte[] bundle)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var gzip = new GZipStream(new MemoryStream(bundle), CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            Assert.Equal(TarEntryType.RegularFile, entry.EntryType);
            using var content = new MemoryStream();
            entry.DataStream?.CopyTo(content);
            files[entry.Name] = content.ToArray();
        }

        return files;
    }
}
