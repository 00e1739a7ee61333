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
    public async Task Heartbeat_reports_resources_temperature_served_traffic_and_the_last_deployment()
    {
        var thermal = Directory.CreateTempSubdirectory("edgeagent-thermal-").FullName;
        try
        {
            // A fake /sys/class/thermal: the hottest readable zone wins; a zone that does not read as a number is skipped.
            WriteZone(thermal, 0, "45000\n");
            WriteZone(thermal, 1, "61500\n");
            WriteZone(thermal, 2, "not-a-number\n");
            Directory.CreateDirectory(Path.Combine(thermal, "cooling_device0"));
            // One long window, closed by the test: the heartbeats after it show its rate and latency.
            await using var rig = await AgentRig.StartAsync(overrides: new() { ["Telemetry:ThermalDirectory"] = thermal, ["Telemetry:WindowSeconds"] = "600" });
            await rig.DeployActiveAsync();
            using var api = rig.Api();
            for (var i = 0; i < 20; i++)
            {
                Assert.Equal(200, (await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest)).Status);
            }

            Assert.Equal(400, (await api.PostAsync("/v2/models/vibration/infer", """{"inputs":[{"name":"features","datatype":"FP32","shape":[1,3],"data":[1,2,3]}]}""")).Status);

            rig.Service<MetricsWindowService>().Flush();
            var health = await Wait.ForAsync(
                () => rig.Messages("health").LastOrDefault(h => h.RootElement.GetProperty("models").EnumerateArray().Any(m => m.GetProperty("ratePerSecond").GetDouble() > 0)),
                Wait.Default,
                "a heartbeat showing the served requests in the model's rate");

            var root = health.RootElement;
            Assert.Equal(AgentRig.DeviceId, root.GetProperty("deviceId").GetString());
            Assert.Equal(0.5, root.GetProperty("intervalSeconds").GetDouble());
            Assert.True(root.GetProperty("uptimeSeconds").GetDouble() > 0);
            Assert.InRange(root.GetProperty("cpuPercent").GetDouble(), 0, 100);
            Assert.True(root.GetProperty("rssBytes").GetInt64() > 10 * 1024 * 1024, "a .NET process with ONNX Runtime loaded holds more than 10 MiB");
            Assert.Equal(new DriveInfo(rig.StateDirectory).AvailableFreeSpace, root.GetProperty("diskFreeBytes").GetInt64(), (double)(256 * 1024 * 1024));
            Assert.Equal(61.5, root.GetProperty("temperatureC").GetDouble());

            var model = Assert.Single(root.GetProperty("models").EnumerateArray());
            Assert.Equal("vibration", model.GetProperty("name").GetString());
            Assert.Equal("1.0.0", model.GetProperty("version").GetString());
            Assert.Equal("CPU", model.GetProperty("executionProvider").GetString());
            Assert.False(model.TryGetProperty("executionProviderFallback", out _), "CPU is the first preference: no fallback");
            Assert.Equal(21, model.GetProperty("requests").GetInt64());
            Assert.Equal(1, model.GetProperty("errors").GetInt64());
            var latency = model.GetProperty("latencyMs");
            Assert.True(latency.GetProperty("p50").GetDouble() > 0);
            Assert.True(latency.GetProperty("p95").GetDouble() >= latency.GetProperty("p50").GetDouble());
            Assert.True(latency.GetProperty("p99").GetDouble() >= latency.GetProperty("p95").GetDouble());

            Assert.Equal(0, root.GetProperty("mqtt").GetProperty("reconnects").GetInt64());
            Assert.Equal(rig.Service<Mqtt.MqttSession>().SessionSeq, root.GetProperty("mqtt").GetProperty("session").GetInt64());
            Assert.True(root.GetProperty("outbox").TryGetProperty("depth", out _));
            Assert.False(root.GetProperty("gpio").GetProperty("enabled").GetBoolean());
            Assert.Equal("ok", root.GetProperty("watchdog").GetProperty("state").GetString());

            var last = root.GetProperty("lastDeployment");
            Assert.Equal("vibration", last.GetProperty("model").GetString());
            Assert.Equal("1.0.0", last.GetProperty("version").GetString());
            Assert.Equal("Active", last.GetProperty("state").GetString());
            Assert.False(last.TryGetProperty("reason", out _));
            Assert.True(last.GetProperty("at").GetDateTimeOffset() <= root.GetProperty("timestamp").GetDateTimeOffset());
        }
        finally
        {
            Directory.Delete(thermal, recursive: true);
        }
    }

    [Fact]
    public async Task Heartbeat_has_no_temperature_where_no_thermal_zone_reads()
    {
        await using var rig = await AgentRig.StartAsync(overrides: new() { ["Telemetry:ThermalDirectory"] = "/nonexistent/thermal" });

        var health = await Wait.ForAsync(() => rig.LastMessage("health"), Wait.Default, "a heartbeat");

        Assert.False(health.RootElement.TryGetProperty("temperatureC", out _));
        Assert.False(health.RootElement.TryGetProperty("lastDeployment", out _), "no deployment yet");
    }

    private static void WriteZone(string root, int index, string content)
    {
        var zone = Directory.CreateDirectory(Path.Combine(root, $"thermal_zone{index}")).FullName;
        File.WriteAllText(Path.Combine(zone, "temp"), content);
        File.WriteAllText(Path.Combine(zone, "type"), "x86_pkg_temp\n");
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

    [Fact]
    public async Task A_late_will_of_an_older_session_is_recognisable_by_seq_and_the_device_publishes_its_birth_again()
    {
        await using var rig = await AgentRig.StartAsync();
        var birth = await Wait.ForAsync(() => rig.LastMessage("status"), Wait.Default, "birth");
        var current = Core.Mqtt.DeviceStatus.TryParse(System.Text.Encoding.UTF8.GetBytes(birth.RootElement.GetRawText()))!;
        Assert.True(current.IsOnline);

        // What a broker that noticed the previous connection's death late would publish: that session's will, retained.
        var lateWill = System.Text.Encoding.UTF8.GetBytes($$"""{"state":"offline","deviceId":"{{AgentRig.DeviceId}}","seq":{{current.Seq - 1}}}""");
        await rig.PublishRawAsync($"edgeagent/v1/devices/{AgentRig.DeviceId}/status", lateWill);

        // A consumer following the rule ignores it ...
        Assert.False(Core.Mqtt.DeviceStatus.TryParse(lateWill)!.Supersedes(current));

        // ... and the device puts its birth back, so the retained status a later consumer reads is right too.
        await Wait.UntilAsync(
            () => rig.Messages("status").SkipWhile(s => s.RootElement.GetProperty("state").GetString() != "offline")
                .Any(s => s.RootElement.GetProperty("state").GetString() == "online" && s.RootElement.GetProperty("seq").GetInt64() == current.Seq),
            Wait.Default,
            "the birth of the current session published again after the late will");
        var retained = await rig.Operator!.ReadRetainedAsync($"edgeagent/v1/devices/{AgentRig.DeviceId}/status", TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Equal(current, Core.Mqtt.DeviceStatus.TryParse(retained));
        Assert.Contains(rig.Logs, l => l.Contains($"offline for the older session {current.Seq - 1}", StringComparison.Ordinal));
    }
}
