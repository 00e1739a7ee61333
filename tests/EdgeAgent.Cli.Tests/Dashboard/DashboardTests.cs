using System.Net;
using System.Text;
using System.Text.Json;
using EdgeAgent.Cli.Dashboard;
using EdgeAgent.Fleet.Mqtt;
using EdgeAgent.Fleet.Rollouts;
using static EdgeAgent.Cli.Tests.Dashboard.AgentDocuments;

namespace EdgeAgent.Cli.Tests.Dashboard;

/// <summary>The dashboard in process: real embedded broker, real Kestrel on a free port, real HttpClient.</summary>
public sealed class DashboardTests : IAsyncDisposable
{
    private const string P = "edgeagent/v1";
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private EmbeddedBroker? _broker;
    private FleetConnection? _fleet;
    private DashboardHost? _dashboard;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Snapshot_shows_devices_from_their_retained_documents()
    {
        await StartBrokerAsync();
        await RetainAsync($"{P}/devices/demo-1/status", Birth("demo-1", 3));
        await RetainAsync($"{P}/devices/demo-1/reported", Reported("demo-1"));
        await RetainAsync($"{P}/devices/demo-1/health", Health("demo-1", DateTimeOffset.UtcNow, session: 3));
        await RetainAsync($"{P}/devices/demo-2/status", Will("demo-2", 5));
        await PublishManifestAsync("vibration", "1.0.0");
        await StartDashboardAsync(operatorMode: false);

        var snapshot = await WaitForAsync(async () =>
        {
            var doc = await GetJsonAsync("api/snapshot");
            return doc.GetProperty("devices").GetArrayLength() == 2 && doc.GetProperty("devices")[0].TryGetProperty("lastHeartbeat", out var hb) && hb.ValueKind == JsonValueKind.String ? doc : (JsonElement?)null;
        });
        var devices = snapshot.GetProperty("devices");
        var demo1 = devices[0];
        Assert.Equal("demo-1", demo1.GetProperty("device").GetString());
        Assert.Equal("online", demo1.GetProperty("state").GetString());
        Assert.True(demo1.GetProperty("healthy").GetBoolean());
        Assert.Equal("type-a", demo1.GetProperty("deviceType").GetString());
        Assert.Equal("line-1", demo1.GetProperty("groups")[0].GetString());
        Assert.Equal("Active", demo1.GetProperty("models")[0].GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, demo1.GetProperty("models")[0].GetProperty("reason").ValueKind);
        Assert.Equal(3, demo1.GetProperty("outboxDepth").GetInt64());
        Assert.Equal(120000000, demo1.GetProperty("rssBytes").GetInt64());
        Assert.Equal("offline", devices[1].GetProperty("state").GetString());
        var info = snapshot.GetProperty("info");
        Assert.True(info.GetProperty("readOnly").GetBoolean());
        Assert.True(info.GetProperty("connected").GetBoolean());
        Assert.Equal(P, info.GetProperty("prefix").GetString());
        Assert.Equal(_broker!.Url, info.GetProperty("broker").GetString());
        Assert.Equal(JsonValueKind.Array, snapshot.GetProperty("rollouts").ValueKind);
        Assert.Equal(JsonValueKind.Array, snapshot.GetProperty("alerts").ValueKind);

        var detail = await GetJsonAsync("api/devices/demo-1");
        Assert.Equal("demo-1", detail.GetProperty("row").GetProperty("device").GetString());
        var point = Assert.Single(detail.GetProperty("health").EnumerateArray());
        Assert.Equal(49.5, point.GetProperty("inferenceRate").GetDouble());
        Assert.Equal(0.25, point.GetProperty("p95Ms").GetDouble());
        Assert.Equal(100, point.GetProperty("requests").GetInt64());
        var baseline = detail.GetProperty("baselines").GetProperty("vibration@1.0.0");
        Assert.Equal([0.5, 0.5], baseline.GetProperty("features")[0].GetProperty("proportions").EnumerateArray().Select(p => p.GetDouble()));
        Assert.Equal(JsonValueKind.Null, baseline.GetProperty("features")[0].GetProperty("classes").ValueKind);

        using var missing = await _http.GetAsync(new Uri(_dashboard!.Url, "api/devices/nope"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("no device 'nope' seen on the broker", await ErrorOfAsync(missing));
    }

    [Fact]
    public async Task Stream_sends_a_device_event_when_a_heartbeat_changes_and_a_rollout_event_per_revision()
    {
        await StartBrokerAsync();
        await RetainAsync($"{P}/devices/demo-1/status", Birth("demo-1", 1));
        await RetainAsync($"{P}/devices/demo-1/health", Health("demo-1", DateTimeOffset.UtcNow.AddSeconds(-1)));
        await StartDashboardAsync(operatorMode: false);
        using var stream = await SseReader.OpenAsync(_http, _dashboard!.Url);
        var first = await stream.NextAsync("snapshot");
        Assert.True(first.TryGetProperty("devices", out _));

        await RetainAsync($"{P}/devices/demo-1/health", Health("demo-1", DateTimeOffset.UtcNow, requests: 250));
        var health = await stream.NextAsync("health", e => e.GetProperty("point").GetProperty("requests").GetInt64() == 250);
        Assert.Equal("demo-1", health.GetProperty("device").GetString());
        var row = await stream.NextAsync("device", e => e.GetProperty("device").GetString() == "demo-1");
        Assert.Equal("online", row.GetProperty("state").GetString());

        var doc = await RolloutDriver.PublishAsync(_fleet!, NewRollout("r1"), "edgectl-test-1", DateTimeOffset.UtcNow, Ct);
        var rev1 = await stream.NextAsync("rollout", e => e.GetProperty("id").GetString() == "r1");
        Assert.Equal(1, rev1.GetProperty("revision").GetInt64());
        Assert.Single(rev1.GetProperty("timeline").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, rev1.GetProperty("driver").ValueKind);

        await RolloutDriver.PublishAsync(_fleet!, doc with { CurrentWave = 1 }, "edgectl-test-1", DateTimeOffset.UtcNow, Ct);
        var rev2 = await stream.NextAsync("rollout", e => e.GetProperty("id").GetString() == "r1");
        Assert.Equal(2, rev2.GetProperty("revision").GetInt64());
        Assert.Equal([1L, 2L], rev2.GetProperty("timeline").EnumerateArray().Select(t => t.GetProperty("revision").GetInt64()));
        Assert.Equal(1, rev2.GetProperty("timeline")[1].GetProperty("currentWave").GetInt32());

        await RetainAsync($"{P}/rollouts/r1/driver", Utf8("""{"writer":"edgectl-test-1","since":"2026-11-27T00:57:17.28+00:00"}"""));
        var driven = await stream.NextAsync("rollout", e => e.GetProperty("driver").ValueKind == JsonValueKind.String);
        Assert.Equal("edgectl-test-1", driven.GetProperty("driver").GetString());
    }

    [Fact]
    public async Task A_real_agent_shows_online_with_its_model_and_heartbeats()
    {
        await StartBrokerAsync();
        await StartDashboardAsync(operatorMode: false);
        var work = Directory.CreateTempSubdirectory("edgectl-dashboard-").FullName;
        try
        {
            await using var agent = await LocalAgent.StartWithSampleAsync(work, "agent-1", new Dictionary<string, string?> { ["Telemetry:HealthIntervalSeconds"] = "0.5" }, _broker!.Url);
            var detail = await WaitForAsync(async () =>
            {
                using var response = await _http.GetAsync(new Uri(_dashboard!.Url, "api/devices/agent-1"), Ct);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    return (JsonElement?)null;
                }

                using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
                var row = doc.RootElement.GetProperty("row");
                return row.GetProperty("state").GetString() == "online"
                    && row.GetProperty("models").GetArrayLength() == 1 && row.GetProperty("models")[0].GetProperty("state").GetString() == "Active"
                    && doc.RootElement.GetProperty("health").GetArrayLength() >= 2
                    ? doc.RootElement.Clone()
                    : null;
            }, seconds: 30);
            var row = detail.GetProperty("row");
            Assert.Equal("1.0.0", row.GetProperty("models")[0].GetProperty("activeVersion").GetString());
            Assert.Equal("online", row.GetProperty("connection").GetString());
            Assert.Equal(0.5, row.GetProperty("heartbeatIntervalSeconds").GetDouble());
            Assert.True(row.GetProperty("rssBytes").GetInt64() > 0);
            Assert.Equal("0.1.0", row.GetProperty("agentVersion").GetString());
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task A_heartbeat_that_gets_old_turns_the_device_stale_on_the_stream()
    {
        await StartBrokerAsync();
        // Interval 1 s, 2.5 s old: stale once it is 3 s old, which the 2 s re-classification notices.
        await RetainAsync($"{P}/devices/demo-1/status", Birth("demo-1", 1));
        await RetainAsync($"{P}/devices/demo-1/health", Health("demo-1", DateTimeOffset.UtcNow.AddSeconds(-2.5), interval: 1));
        await StartDashboardAsync(operatorMode: false);
        using var stream = await SseReader.OpenAsync(_http, _dashboard!.Url);
        await stream.NextAsync("snapshot");
        var stale = await stream.NextAsync("device", e => e.GetProperty("state").GetString() == "stale");
        Assert.False(stale.GetProperty("healthy").GetBoolean());
    }

    [Fact]
    public async Task A_lost_broker_is_announced_and_the_dashboard_reconnects_by_itself()
    {
        await StartBrokerAsync();
        await StartDashboardAsync(operatorMode: false);
        using var stream = await SseReader.OpenAsync(_http, _dashboard!.Url);
        await stream.NextAsync("snapshot");
        var port = _broker!.Port;
        await _fleet!.DisposeAsync();
        _fleet = null;
        await _broker.DisposeAsync();
        var lost = await stream.NextAsync("info");
        Assert.False(lost.GetProperty("connected").GetBoolean());

        _broker = await EmbeddedBroker.StartAsync(port);
        var back = await stream.NextAsync("info", timeout: TimeSpan.FromSeconds(20));
        Assert.True(back.GetProperty("connected").GetBoolean());

        // Subscribed again: a device that appears now shows.
        _fleet = await FleetConnection.ConnectAsync(_broker.Url, cancellationToken: Ct);
        await RetainAsync($"{P}/devices/demo-9/status", Birth("demo-9", 1));
        await stream.NextAsync("device", e => e.GetProperty("device").GetString() == "demo-9");
    }

    [Fact]
    public async Task Drift_records_in_an_outbox_batch_become_windows_and_an_alert_that_a_clear_deactivates()
    {
        await StartBrokerAsync();
        await StartDashboardAsync(operatorMode: false);
        using var stream = await SseReader.OpenAsync(_http, _dashboard!.Url);
        await stream.NextAsync("snapshot");
        var end = DateTimeOffset.UtcNow;
        var batch = Utf8($$"""{"records":[{{DriftRecord("demo-1", 41, "window", "drift", "ok", end, "drift")}},{{DriftRecord("demo-1", 42, "alert", "drift", "ok", end, "drift")}}]}""");
        await _fleet!.PublishAsync($"{P}/devices/demo-1/drift", batch, retain: false, Ct);
        // At-least-once delivery: the same batch again changes nothing.
        await _fleet.PublishAsync($"{P}/devices/demo-1/drift", batch, retain: false, Ct);

        var alert = await stream.NextAsync("alert");
        Assert.Equal("drift:demo-1:vibration:42", alert.GetProperty("id").GetString());
        Assert.Equal("drift", alert.GetProperty("kind").GetString());
        Assert.Equal("warning", alert.GetProperty("severity").GetString());
        Assert.Equal("drift raised on features[0]", alert.GetProperty("message").GetString());
        Assert.True(alert.GetProperty("active").GetBoolean());
        var row = await stream.NextAsync("device", e => e.GetProperty("drift").GetArrayLength() == 1);
        Assert.Equal("drift", row.GetProperty("drift")[0].GetProperty("state").GetString());

        // A bare record (nothing to batch with) clears it.
        await _fleet.PublishAsync($"{P}/devices/demo-1/drift", Utf8(DriftRecord("demo-1", 44, "alert", "ok", "drift", end.AddSeconds(60), "ok")), retain: false, Ct);
        var cleared = await stream.NextAsync("alert", e => !e.GetProperty("active").GetBoolean());
        Assert.Equal("drift:demo-1:vibration:42", cleared.GetProperty("id").GetString());

        var detail = await GetJsonAsync("api/devices/demo-1");
        var windows = detail.GetProperty("drift");
        Assert.Equal(["window", "alert", "alert"], windows.EnumerateArray().Select(w => w.GetProperty("kind").GetString()));
        Assert.Equal([10.0, 20.0], windows[0].GetProperty("features")[0].GetProperty("counts").EnumerateArray().Select(c => c.GetDouble()));
        Assert.Equal(JsonValueKind.Null, windows[0].GetProperty("features")[1].GetProperty("counts").ValueKind);
        Assert.Equal(3120, windows[0].GetProperty("count").GetInt64());
        var alerts = (await GetJsonAsync("api/snapshot")).GetProperty("alerts");
        Assert.False(Assert.Single(alerts.EnumerateArray()).GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task A_failed_deployment_event_becomes_an_error_alert_and_a_deployment_event()
    {
        await StartBrokerAsync();
        await StartDashboardAsync(operatorMode: false);
        using var stream = await SseReader.OpenAsync(_http, _dashboard!.Url);
        await stream.NextAsync("snapshot");
        var failed = $$"""{"seq":12,"deviceId":"demo-1","type":"deployment","model":"vibration","version":"1.1.0","state":"RolledBack","reason":"probation failed: error rate 40.0%","timestamp":"{{Iso(DateTimeOffset.UtcNow)}}"}""";
        await _fleet!.PublishAsync($"{P}/devices/demo-1/events", Utf8($$"""{"records":[{{failed}}]}"""), retain: false, Ct);

        var deployment = await stream.NextAsync("deployment");
        Assert.Equal("demo-1", deployment.GetProperty("device").GetString());
        Assert.Equal("RolledBack", deployment.GetProperty("event").GetProperty("state").GetString());
        var alert = await stream.NextAsync("alert");
        Assert.Equal("deployment", alert.GetProperty("kind").GetString());
        Assert.Equal("error", alert.GetProperty("severity").GetString());
        Assert.Equal("vibration 1.1.0 RolledBack: probation failed: error rate 40.0%", alert.GetProperty("message").GetString());

        // The device reports the version Active later: the alert is over.
        await RetainAsync($"{P}/devices/demo-1/reported", Reported("demo-1", "Active", "1.1.0"));
        var over = await stream.NextAsync("alert", e => !e.GetProperty("active").GetBoolean());
        Assert.Equal(alert.GetProperty("id").GetString(), over.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Pause_from_an_operator_dashboard_publishes_the_paused_rollout_and_needs_the_confirm_header()
    {
        await StartBrokerAsync();
        await RolloutDriver.PublishAsync(_fleet!, NewRollout("r1"), "edgectl-test-1", DateTimeOffset.UtcNow, Ct);
        await RetainAsync($"{P}/rollouts/r1/driver", Utf8("""{"writer":"edgectl-test-1","since":"2026-11-27T00:57:17.28+00:00"}"""));
        await StartDashboardAsync(operatorMode: true);
        await WaitForAsync(async () => (await GetJsonAsync("api/snapshot")).GetProperty("rollouts").GetArrayLength() == 1 ? true : (bool?)null);

        using (var unconfirmed = await PostAsync("api/rollouts/r1/pause", confirm: false))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unconfirmed.StatusCode);
            Assert.Contains("X-EdgeAgent-Confirm: yes", await ErrorOfAsync(unconfirmed), StringComparison.Ordinal);
        }

        using (var pause = await PostAsync("api/rollouts/r1/pause", confirm: true))
        {
            Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
            using var body = JsonDocument.Parse(await pause.Content.ReadAsStringAsync(Ct));
            Assert.Equal("paused", body.RootElement.GetProperty("state").GetString());
            Assert.Equal("edgectl-test-1", body.RootElement.GetProperty("driver").GetString());
        }

        var retained = await RolloutDriver.ReadAsync(_fleet!, "r1", cancellationToken: Ct);
        Assert.Equal(RolloutStates.Paused, retained!.State);
        Assert.Equal(2, retained.Revision);
        Assert.NotEqual("edgectl-test-1", retained.Writer);

        using (var again = await PostAsync("api/rollouts/r1/pause", confirm: true))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            Assert.Equal("rollout 'r1' is paused; only a running rollout can be paused", await ErrorOfAsync(again));
        }

        using (var foreign = new HttpRequestMessage(HttpMethod.Post, new Uri(_dashboard!.Url, "api/rollouts/r1/resume")))
        {
            foreign.Headers.Add("X-EdgeAgent-Confirm", "yes");
            foreign.Headers.Add("Origin", "http://evil.example");
            using var refused = await _http.SendAsync(foreign, Ct);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        using (var rebound = new HttpRequestMessage(HttpMethod.Get, new Uri(_dashboard!.Url, "api/snapshot")))
        {
            // DNS rebinding: another site's name pointed at 127.0.0.1.
            rebound.Headers.Host = "evil.example";
            using var misdirected = await _http.SendAsync(rebound, Ct);
            Assert.Equal(HttpStatusCode.MisdirectedRequest, misdirected.StatusCode);
        }

        using (var unknown = await PostAsync("api/rollouts/nope/abort", confirm: true))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        // Nobody drives it any more: resuming is left to a terminal.
        await RetainAsync($"{P}/rollouts/r1/driver", []);
        await WaitForAsync(() => Task.FromResult(_dashboard!.State.DriverOf("r1") is null ? true : (bool?)null));
        using (var resume = await PostAsync("api/rollouts/r1/resume", confirm: true))
        {
            Assert.Equal(HttpStatusCode.Conflict, resume.StatusCode);
            Assert.Contains("run 'edgectl rollout resume r1'", await ErrorOfAsync(resume), StringComparison.Ordinal);
        }

        using (var abort = await PostAsync("api/rollouts/r1/abort", confirm: true))
        {
            Assert.Equal(HttpStatusCode.OK, abort.StatusCode);
            using var body = JsonDocument.Parse(await abort.Content.ReadAsStringAsync(Ct));
            Assert.Equal("aborted", body.RootElement.GetProperty("state").GetString());
        }

        Assert.Equal(RolloutStates.Aborted, (await RolloutDriver.ReadAsync(_fleet!, "r1", cancellationToken: Ct))!.State);
    }

    [Fact]
    public async Task A_read_only_dashboard_refuses_control_with_403()
    {
        await StartBrokerAsync();
        await RolloutDriver.PublishAsync(_fleet!, NewRollout("r1"), "edgectl-test-1", DateTimeOffset.UtcNow, Ct);
        await StartDashboardAsync(operatorMode: false);

        using var pause = await PostAsync("api/rollouts/r1/pause", confirm: true);
        Assert.Equal(HttpStatusCode.Forbidden, pause.StatusCode);
        Assert.Equal("read-only dashboard: start it with --operator to control rollouts", await ErrorOfAsync(pause));
        Assert.Equal(RolloutStates.Running, (await RolloutDriver.ReadAsync(_fleet!, "r1", cancellationToken: Ct))!.State);
    }

    [Fact]
    public async Task Static_files_are_served_with_types_and_the_page_routes_fall_back_to_index_html()
    {
        await StartBrokerAsync();
        await StartDashboardAsync(operatorMode: false);
        var url = _dashboard!.Url;

        using var index = await _http.GetAsync(url, Ct);
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", index.Headers.CacheControl?.ToString());
        var html = await index.Content.ReadAsStringAsync(Ct);
        Assert.Contains("<html", html, StringComparison.OrdinalIgnoreCase);

        using (var revalidate = new HttpRequestMessage(HttpMethod.Get, url))
        {
            revalidate.Headers.IfNoneMatch.Add(index.Headers.ETag!);
            using var notModified = await _http.SendAsync(revalidate, Ct);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        }

        // Whatever the web build put under assets/ (its names carry content hashes).
        var script = StaticAssets.Load(typeof(DashboardHost).Assembly).Paths.First(p => p.StartsWith("assets/", StringComparison.Ordinal) && p.EndsWith(".js", StringComparison.Ordinal));
        using var js = await _http.GetAsync(new Uri(url, script), Ct);
        Assert.Equal(HttpStatusCode.OK, js.StatusCode);
        Assert.Equal("text/javascript", js.Content.Headers.ContentType?.MediaType);

        using var route = await _http.GetAsync(new Uri(url, "rollouts"), Ct);
        Assert.Equal(HttpStatusCode.OK, route.StatusCode);
        Assert.Equal(html, await route.Content.ReadAsStringAsync(Ct));

        using var api = await _http.GetAsync(new Uri(url, "api/x"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
        Assert.Equal("application/json", api.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no API endpoint GET /api/x", await ErrorOfAsync(api));

        using var asset = await _http.GetAsync(new Uri(url, "assets/missing.js"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, asset.StatusCode);
    }

    public async ValueTask DisposeAsync()
    {
        if (_dashboard is not null)
        {
            await _dashboard.DisposeAsync();
        }

        if (_fleet is not null)
        {
            await _fleet.DisposeAsync();
        }

        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }

        _http.Dispose();
    }

    private static RolloutDocument NewRollout(string id) => new()
    {
        Id = id,
        Model = "vibration",
        Version = "1.1.0",
        Targets = ["demo-1", "demo-2"],
        Waves = ["1", "100%"],
        WaveSizes = [1, 2],
        SuccessThreshold = 0.95m,
        AbortThreshold = 0.05m,
        WaveTimeoutSeconds = 60,
        State = RolloutStates.Running,
        Devices = new Dictionary<string, RolloutDevice>(StringComparer.Ordinal) { ["demo-1"] = RolloutDevice.Pending, ["demo-2"] = RolloutDevice.Pending },
        Created = DateTimeOffset.UtcNow,
        Updated = DateTimeOffset.UtcNow,
    };

    private async Task StartBrokerAsync()
    {
        _broker = await EmbeddedBroker.StartAsync();
        _fleet = await FleetConnection.ConnectAsync(_broker.Url, cancellationToken: Ct);
    }

    private async Task StartDashboardAsync(bool operatorMode) =>
        _dashboard = await DashboardHost.StartAsync(
            new DashboardSettings { BrokerUrl = _broker!.Url, Listen = new IPEndPoint(IPAddress.Loopback, 0), Operator = operatorMode },
            Ct);

    private Task RetainAsync(string topic, byte[] payload) => _fleet!.PublishAsync(topic, payload, retain: true, Ct);

    /// <summary>A manifest envelope whose payload carries a drift baseline (signatures are not read by the dashboard).</summary>
    private Task PublishManifestAsync(string name, string version)
    {
        var manifest = $$$"""{"schema":"edgeagent.manifest/v1","name":"{{{name}}}","version":"{{{version}}}","model":"model.onnx","files":[],"drift":{"samples":100,"bins":2,"features":[{"name":"features[0]","input":"features","index":0,"statistic":"value","edges":[0.5],"proportions":[0.5,0.5]}],"outputs":[]}}""";
        var envelope = $$"""{"payloadType":"application/vnd.edgeagent.manifest+json","payload":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes(manifest))}}","signatures":[]}""";
        return RetainAsync($"{P}/bundles/{name}/{version}/manifest", Utf8(envelope));
    }

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await _http.GetAsync(new Uri(_dashboard!.Url, path), Ct);
        response.EnsureSuccessStatusCode();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        return doc.RootElement.Clone();
    }

    private async Task<HttpResponseMessage> PostAsync(string path, bool confirm)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_dashboard!.Url, path));
        if (confirm)
        {
            request.Headers.Add("X-EdgeAgent-Confirm", "yes");
        }

        return await _http.SendAsync(request, Ct);
    }

    private static async Task<string?> ErrorOfAsync(HttpResponseMessage response)
    {
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        return doc.RootElement.GetProperty("error").GetString();
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, double seconds = 10)
        where T : struct
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"condition not met within {seconds} s");
            }

            await Task.Delay(50, Ct);
        }
    }
}
