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
    public async Task Over_its_byte_budget_the_outbox_drops_the_oldest_metrics_first_counts_each_drop_and_health_reports_them()
    {
        var port = Fleet.Mqtt.EmbeddedBroker.FreePort();
        await using var rig = await AgentRig.StartAsync(await TestBroker.EmbeddedAsync(port), new Dictionary<string, string?>
        {
            ["Telemetry:WindowSeconds"] = "0.1",
            ["Telemetry:OutboxMaxBytes"] = "8192",
        });
        await rig.DeployActiveAsync();
        var mqtt = rig.Service<Mqtt.MqttSession>();

        await rig.Broker.DisposeAsync();
        await Wait.UntilAsync(() => !mqtt.IsConnected, Wait.Default, "the agent to notice the outage");
        var alert = rig.Outbox.Enqueue(OutboxClass.Alert, "events", seq => new { seq, deviceId = AgentRig.DeviceId, type = "test-alert" });
        var drift = rig.Outbox.Enqueue(OutboxClass.Drift, "drift", seq => new { seq, deviceId = AgentRig.DeviceId, kind = "window" });
        await Wait.UntilAsync(() => rig.Outbox.Status().Dropped.Metrics >= 10, Wait.Default, "metrics windows to push the outbox over 8 KiB");
        var dropped = rig.Outbox.Status().Dropped;
        Assert.Equal((0, 0, 0), (dropped.Alert, dropped.Event, dropped.Drift));
        Assert.True(rig.Outbox.Bytes <= 8192);
        Assert.Contains(rig.Logs, l => l.Contains("Outbox over its budget of 8192 bytes", StringComparison.Ordinal));

        await rig.ReplaceBrokerAsync(await TestBroker.EmbeddedAsync(port));

        // The alert and the drift report, older than most of the metrics dropped after them, survived; the consumer's
        // gaps are exactly the drops.
        await Wait.UntilAsync(() => rig.Messages("events").Any(e => e.RootElement.GetProperty("seq").GetInt64() == alert), Wait.Default, "the alert");
        await Wait.UntilAsync(() => rig.Messages("drift").Any(e => e.RootElement.GetProperty("seq").GetInt64() == drift), Wait.Default, "the drift report");
        var health = await Wait.ForAsync(
            () => rig.Messages("health").LastOrDefault(h => h.RootElement.GetProperty("outbox").GetProperty("dropped").GetProperty("metrics").GetInt64() >= 10),
            Wait.Default,
            "a heartbeat with the drops");
        var reported = health.RootElement.GetProperty("outbox").GetProperty("dropped");
        Assert.Equal((0L, 0L, 0L), (reported.GetProperty("alert").GetInt64(), reported.GetProperty("event").GetInt64(), reported.GetProperty("drift").GetInt64()));
        var at = rig.Outbox.Status();
        var ledger = new SeqLedger();
        await Wait.UntilAsync(
            () =>
            {
                ledger = new SeqLedger();
                foreach (var leaf in AgentRig.OutboxTopics)
                {
                    foreach (var m in rig.Messages(leaf))
                    {
                        ledger.Add(m.RootElement.GetProperty("seq").GetInt64());
                    }
                }

                return ledger.Highest >= at.LastSeq && ledger.Gaps().Sum(g => g.To - g.From + 1) <= at.Dropped.Total;
            },
            Wait.Default,
            "every record that was not dropped");
        var missing = ledger.Gaps().Sum(g => g.To - g.From + 1);
        Assert.Equal(rig.Outbox.Status().Dropped.Total, missing);
        using var api = rig.Api();
        var (_, status) = await api.GetAsync("/v1/status");
        Assert.Equal(rig.Outbox.Status().Dropped.Metrics, status.RootElement.GetProperty("outbox").GetProperty("dropped").GetProperty("metrics").GetInt64());
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
