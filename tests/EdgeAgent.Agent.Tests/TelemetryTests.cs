using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Agent.Tests.Infrastructure;
using EdgeAgent.Core.Telemetry;

namespace EdgeAgent.Agent.Tests;

public sealed class TelemetryTests
{
    [Fact]
    public async Task Every_inference_is_counted_in_metrics_records_and_every_outbox_record_carries_the_next_device_wide_seq()
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync();
        using var api = rig.Api();

        for (var i = 0; i < 40; i++)
        {
            Assert.Equal(200, (await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest)).Status);
        }

        rig.Service<MetricsWindowService>().Flush();
        await Wait.UntilAsync(() => rig.Messages("metrics").Sum(m => m.RootElement.GetProperty("count").GetInt64()) == 40, Wait.Default, "40 inferences counted on the broker");

        // metrics and events share one sequence: together they are 1, 2, 3, ... with nothing missing.
        await Wait.UntilAsync(
            () =>
            {
                var ledger = new SeqLedger();
                foreach (var leaf in AgentRig.OutboxTopics)
                {
                    foreach (var m in rig.Messages(leaf))
                    {
                        ledger.Add(m.RootElement.GetProperty("seq").GetInt64());
                    }
                }

                return ledger.Highest > 0 && ledger.Gaps().Count == 0 && ledger.Duplicates == 0;
            },
            Wait.Default,
            "metrics and events to carry seq 1..N without gaps");
        var records = rig.Messages("metrics").Select(m => m.RootElement).ToList();
        Assert.Contains(rig.Messages("events"), e => e.RootElement.GetProperty("seq").GetInt64() < records.Max(r => r.GetProperty("seq").GetInt64()));
        var busy = records.First(r => r.GetProperty("count").GetInt64() > 0);
        Assert.Equal("vibration", busy.GetProperty("model").GetString());
        Assert.True(busy.GetProperty("latencyMs").GetProperty("p95").GetDouble() > 0);
        Assert.True(File.Exists(Path.Combine(rig.StateDirectory, "outbox.db")));

        // Output statistics: the sample model's probabilities lie in [0, 1]; its labels are classes 0..2.
        var outputs = busy.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!);
        var probabilities = outputs["probabilities"];
        Assert.True(probabilities.GetProperty("count").GetInt64() > 0);
        Assert.InRange(probabilities.GetProperty("min").GetDouble(), 0, 1);
        Assert.InRange(probabilities.GetProperty("max").GetDouble(), 0, 1);
        Assert.InRange(outputs["label"].GetProperty("mean").GetDouble(), 0, 2);
    }

    [Fact]
    public async Task Metrics_written_while_the_broker_is_down_are_delivered_when_it_returns()
    {
        var port = Fleet.Mqtt.EmbeddedBroker.FreePort();
        await using var rig = await AgentRig.StartAsync(await TestBroker.EmbeddedAsync(port));
        await rig.DeployActiveAsync();
        using var api = rig.Api();
        var mqtt = rig.Service<Mqtt.MqttSession>();

        await rig.Broker.DisposeAsync();
        await Wait.UntilAsync(() => !mqtt.IsConnected, Wait.Default, "the agent to notice the outage");
        for (var i = 0; i < 25; i++)
        {
            Assert.Equal(200, (await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest)).Status);
        }

        rig.Service<MetricsWindowService>().Flush();
        Assert.True(rig.Outbox.Depth > 0, "records wait in the outbox while the broker is down");

        await rig.ReplaceBrokerAsync(await TestBroker.EmbeddedAsync(port));

        await Wait.UntilAsync(() => rig.Messages("metrics").Sum(m => m.RootElement.GetProperty("count").GetInt64()) == 25, Wait.Default, "buffered metrics to arrive");
        await Wait.UntilAsync(() => rig.Outbox.Depth == 0, Wait.Default, "the outbox to drain");
        Assert.True(mqtt.Reconnects >= 1);
    }

    [Fact]
    public async Task Heartbeat_reports_resources_models_and_outbox()
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync();

        var health = await Wait.ForAsync(
            () => rig.Messages("health").FirstOrDefault(h => h.RootElement.GetProperty("models").GetArrayLength() > 0),
            Wait.Default,
            "a heartbeat listing the model");

        var root = health.RootElement;
        Assert.Equal(AgentRig.DeviceId, root.GetProperty("deviceId").GetString());
        Assert.True(root.GetProperty("rssBytes").GetInt64() > 0);
        Assert.True(root.GetProperty("diskFreeBytes").GetInt64() > 0);
        Assert.Equal("vibration", root.GetProperty("models")[0].GetProperty("name").GetString());
        Assert.Equal("CPU", root.GetProperty("models")[0].GetProperty("executionProvider").GetString());
        Assert.True(root.GetProperty("outbox").TryGetProperty("depth", out _));
    }

    [Fact]
    public async Task Birth_is_retained_online_with_a_session_sequence_and_a_clean_stop_leaves_offline()
    {
        await using var rig = await AgentRig.StartAsync();
        var birth = await Wait.ForAsync(() => rig.LastMessage("status"), Wait.Default, "birth");
        Assert.Equal("online", birth.RootElement.GetProperty("state").GetString());
        var seq = birth.RootElement.GetProperty("seq").GetInt64();

        await rig.StopAgentAsync();

        var last = await Wait.ForAsync(() => rig.LastMessage("status") is { } s && s.RootElement.GetProperty("state").GetString() == "offline" ? s : null, Wait.Default, "offline status");
        Assert.Equal(seq, last.RootElement.GetProperty("seq").GetInt64());
        var retained = await rig.Operator!.ReadRetainedAsync("edgeagent/v1/devices/dev-1/status", TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Contains("offline", System.Text.Encoding.UTF8.GetString(retained!), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_reconnects_after_the_broker_drops_it_and_announces_a_newer_session()
    {
        await using var rig = await AgentRig.StartAsync(await TestBroker.EmbeddedAsync());
        var first = (await Wait.ForAsync(() => rig.LastMessage("status"), Wait.Default, "birth")).RootElement.GetProperty("seq").GetInt64();
        var embedded = Assert.IsType<TestBroker.Embedded>(rig.Broker);

        // Only the device is dropped; the operator keeps watching and sees the new session announced live.
        await embedded.Broker.DisconnectClientAsync($"edge-agent-{AgentRig.DeviceId}");

        await Wait.UntilAsync(
            () => rig.Messages("status").Any(s => s.RootElement.GetProperty("state").GetString() == "online" && s.RootElement.GetProperty("seq").GetInt64() > first),
            Wait.Default,
            "a new birth with a higher seq");
    }
}
