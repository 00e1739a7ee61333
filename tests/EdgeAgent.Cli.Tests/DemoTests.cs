using System.Diagnostics;
using System.Text.Json;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Cli.Tests;

public sealed class DemoTests
{
    private const string RolloutId = "demo-vibration-1.0.0";

    [Fact]
    public async Task Demo_rolls_out_to_a_fleet_in_waves_runs_the_whole_loop_and_reports_it_as_json()
    {
        var result = await Edgectl.RunAsync(TimeSpan.FromSeconds(180), "demo", "--duration", "20", "--json");

        Assert.True(result.Code == 0, $"exit {result.Code}\nstdout: {result.Stdout}\nstderr: {result.Stderr}");
        using var doc = JsonDocument.Parse(result.Stdout);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("ok").GetBoolean());
        Assert.Equal("duration", root.GetProperty("stopped").GetString());
        var dashboardUrl = root.GetProperty("dashboard").GetString()!;
        Assert.StartsWith("http://127.0.0.1:", dashboardUrl, StringComparison.Ordinal);
        Assert.Contains($"dashboard: {dashboardUrl}", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("Active", root.GetProperty("modelState").GetString());
        Assert.Equal("1.0.0", root.GetProperty("modelVersion").GetString());
        var inferences = root.GetProperty("inferences").GetInt64();
        Assert.True(inferences > 0);
        Assert.True(root.GetProperty("metricsDelivered").GetInt64() > 0);
        Assert.True(root.GetProperty("healthReports").GetInt64() > 0);
        Assert.Equal(inferences, root.GetProperty("inferencesInMetrics").GetInt64());
        Assert.Empty(root.GetProperty("errors").EnumerateArray());
        Assert.True(root.GetProperty("agreement").GetDouble() > 0.9, "the sample model classifies the simulated sensor correctly");

        // Three devices, all Active on v1, each served part of the traffic and delivered its own metrics.
        Assert.Equal(3, root.GetProperty("devicesActive").GetInt32());
        var devices = root.GetProperty("devices").EnumerateArray().ToList();
        Assert.Equal(["demo-1", "demo-2", "demo-3"], devices.Select(d => d.GetProperty("id").GetString()));
        Assert.Equal(["line-1", "line-2", "line-1"], devices.Select(d => d.GetProperty("group").GetString()));
        Assert.All(devices, d =>
        {
            Assert.Equal("Active", d.GetProperty("modelState").GetString());
            Assert.Equal("1.0.0", d.GetProperty("modelVersion").GetString());
            Assert.Equal("online", d.GetProperty("status").GetString());
            Assert.True(d.GetProperty("inferences").GetInt64() > 0, d.ToString());
            Assert.Equal(d.GetProperty("inferences").GetInt64(), d.GetProperty("inferencesInMetrics").GetInt64());
            Assert.True(d.GetProperty("healthReports").GetInt64() > 0, d.ToString());
        });
        Assert.Equal(inferences, devices.Sum(d => d.GetProperty("inferences").GetInt64()));

        // A real rollout: waves 1, 50%, 100% of three devices, each wave started only after the one before succeeded.
        var rollout = root.GetProperty("rollout");
        Assert.Equal(RolloutId, rollout.GetProperty("id").GetString());
        Assert.Equal("completed", rollout.GetProperty("state").GetString());
        Assert.Equal([1, 2, 3], rollout.GetProperty("waveSizes").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(3, rollout.GetProperty("probationSeconds").GetInt32());
        Assert.Empty(rollout.GetProperty("pauses").EnumerateArray());
        var waves = rollout.GetProperty("waves").EnumerateArray().ToList();
        Assert.Equal(3, waves.Count);
        for (var i = 0; i < waves.Count; i++)
        {
            Assert.Equal([$"demo-{i + 1}"], waves[i].GetProperty("devices").EnumerateArray().Select(e => e.GetString()));
            var started = waves[i].GetProperty("startedAt").GetDateTimeOffset();
            var succeeded = waves[i].GetProperty("succeededAt").GetDateTimeOffset();

            // Probation holds each wave for its 3 s (a device's probation starts after it was targeted).
            Assert.True(succeeded - started >= TimeSpan.FromSeconds(3), waves[i].ToString());
            if (i > 0)
            {
                Assert.True(started >= waves[i - 1].GetProperty("succeededAt").GetDateTimeOffset(), rollout.ToString());
            }
        }

        // The sensor mountings loosen for a while: drift alerts name the features that moved, and every device that
        // raised one clears it once the readings are healthy again.
        var alerts = root.GetProperty("driftAlerts").EnumerateArray().ToList();
        Assert.True(alerts.Count >= 2, root.GetProperty("driftAlerts").ToString());
        Assert.Equal("drift", alerts[0].GetProperty("state").GetString());
        Assert.Contains("features[0]", alerts[0].GetProperty("drifted").EnumerateArray().Select(e => e.GetString()));
        Assert.True(alerts[0].GetProperty("atSeconds").GetDouble() >= root.GetProperty("shift").GetProperty("fromSeconds").GetDouble());
        Assert.All(alerts.GroupBy(a => a.GetProperty("device").GetString()), perDevice => Assert.Equal("ok", perDevice.Last().GetProperty("state").GetString()));
    }

    [Fact]
    public async Task Demo_waits_while_its_rollout_is_paused_from_outside_and_carries_on_after_resume()
    {
        var ready = ReadyFilePath();
        var demo = Edgectl.RunAsync(TimeSpan.FromMinutes(4), "demo", "--duration", "2", "--probation", "10", "--json", "--ready-file", ready);
        var (broker, pid, dashboard) = await ReadyAsync(ready, demo);
        try
        {
            var pause = await Edgectl.RunAsync("rollout", "pause", RolloutId, "--broker", broker, "--json");
            Assert.True(pause.Code == 0, $"exit {pause.Code}: {pause.Stderr}");
            using (var paused = JsonDocument.Parse(pause.Stdout))
            {
                Assert.True(paused.RootElement.GetProperty("currentWave").GetInt32() <= 1, $"paused before wave 2 can start (wave 1 has 10 s of probation): {pause.Stdout}");
            }

            // While paused, demo-1 (the first wave) passes its probation and goes on heartbeating: the gate would start
            // the next wave now, but no wave starts.
            await using (var watch = await WatchAsync(broker))
            {
                await watch.UntilAsync(() => watch.Demo1Active && watch.Demo1HealthSinceActive >= 2, TimeSpan.FromSeconds(90));
                var doc = watch.Rollout!.Value;
                Assert.Equal("paused", doc.GetProperty("state").GetString());
                Assert.Equal(1, doc.GetProperty("currentWave").GetInt32());
                Assert.Equal("pending", doc.GetProperty("devices").GetProperty("demo-2").GetProperty("status").GetString());
                Assert.Equal("pending", doc.GetProperty("devices").GetProperty("demo-3").GetProperty("status").GetString());
            }

            // The demo's dashboard (from the ready file) shows the same: three devices, the rollout paused at wave 1.
            Assert.NotNull(dashboard);
            using (var http = new HttpClient())
            {
                Assert.Equal("127.0.0.1", dashboard.Host);
                using var snapshot = JsonDocument.Parse(await http.GetStringAsync(new Uri(dashboard, "api/snapshot"), TestContext.Current.CancellationToken));
                Assert.Equal(["demo-1", "demo-2", "demo-3"], snapshot.RootElement.GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("device").GetString()).Order(StringComparer.Ordinal));
                var shown = Assert.Single(snapshot.RootElement.GetProperty("rollouts").EnumerateArray());
                Assert.Equal("paused", shown.GetProperty("state").GetString());
                Assert.Equal(1, shown.GetProperty("currentWave").GetInt32());
                Assert.False(snapshot.RootElement.GetProperty("info").GetProperty("readOnly").GetBoolean(), "the demo's dashboard may control its rollout");
            }

            Assert.False(demo.IsCompleted, "--duration 2 is long over, but the demo waits for its paused rollout");
            var resume = await Edgectl.RunAsync("rollout", "resume", RolloutId, "--broker", broker);
            Assert.True(resume.Code == 0, $"exit {resume.Code}: {resume.Stderr}");
            Assert.Contains("driven by", resume.Stdout, StringComparison.Ordinal);
            await demo.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        }
        finally
        {
            await StopIfRunningAsync(demo, pid);
        }

        var result = await demo;
        Assert.True(result.Code == 0, $"exit {result.Code}\nstdout: {result.Stdout}\nstderr: {result.Stderr}");
        using var summary = JsonDocument.Parse(result.Stdout);
        var root = summary.RootElement;
        Assert.Equal(3, root.GetProperty("devicesActive").GetInt32());
        Assert.Empty(root.GetProperty("errors").EnumerateArray());
        var rollout = root.GetProperty("rollout");
        Assert.Equal("completed", rollout.GetProperty("state").GetString());
        var only = Assert.Single(rollout.GetProperty("pauses").EnumerateArray());
        Assert.StartsWith("edgectl-", only.GetProperty("pausedBy").GetString(), StringComparison.Ordinal);
        var resumedAt = only.GetProperty("resumedAt").GetDateTimeOffset();
        var waves = rollout.GetProperty("waves").EnumerateArray().ToList();
        Assert.True(waves[0].GetProperty("startedAt").GetDateTimeOffset() <= only.GetProperty("pausedAt").GetDateTimeOffset(), rollout.ToString());
        Assert.True(waves[1].GetProperty("startedAt").GetDateTimeOffset() >= resumedAt, rollout.ToString());
        Assert.True(waves[2].GetProperty("startedAt").GetDateTimeOffset() >= waves[1].GetProperty("succeededAt").GetDateTimeOffset(), rollout.ToString());
    }

    [Fact]
    public async Task Demo_ends_with_exit_6_when_its_rollout_is_aborted_from_outside()
    {
        var ready = ReadyFilePath();
        var demo = Edgectl.RunAsync(TimeSpan.FromMinutes(3), "demo", "--probation", "30", "--json", "--ready-file", ready);
        var (broker, pid, _) = await ReadyAsync(ready, demo);
        try
        {
            var abort = await Edgectl.RunAsync(TimeSpan.FromSeconds(90), "rollout", "abort", RolloutId, "--broker", broker);
            Assert.True(abort.Code == 0, $"exit {abort.Code}: {abort.Stderr}");
            await demo.WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);
        }
        finally
        {
            await StopIfRunningAsync(demo, pid);
        }

        var result = await demo;
        Assert.True(result.Code == 6, $"exit {result.Code}\nstdout: {result.Stdout}\nstderr: {result.Stderr}");
        using var summary = JsonDocument.Parse(result.Stdout);
        var root = summary.RootElement;
        Assert.False(root.GetProperty("ok").GetBoolean());
        Assert.Equal("rollout-aborted", root.GetProperty("stopped").GetString());
        var rollout = root.GetProperty("rollout");
        Assert.Equal("aborted", rollout.GetProperty("state").GetString());
        Assert.Equal("aborted by operator", rollout.GetProperty("reason").GetString());
        Assert.Contains("demo-1", rollout.GetProperty("restored").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Demo_stops_cleanly_with_exit_0_when_terminated_while_its_rollout_is_paused()
    {
        var ready = ReadyFilePath();
        var demo = Edgectl.RunAsync(TimeSpan.FromMinutes(3), "demo", "--probation", "10", "--json", "--ready-file", ready);
        var (broker, pid, _) = await ReadyAsync(ready, demo);
        try
        {
            var pause = await Edgectl.RunAsync("rollout", "pause", RolloutId, "--broker", broker);
            Assert.True(pause.Code == 0, $"exit {pause.Code}: {pause.Stderr}");
            await using (var watch = await WatchAsync(broker))
            {
                // Traffic reached demo-1 and its metrics came back: what a clean stop needs to report.
                await watch.UntilAsync(() => watch.Demo1Metrics >= 1 && watch.Rollout?.GetProperty("state").GetString() == "paused", TimeSpan.FromSeconds(90));
            }

            // SIGTERM goes the way of Ctrl-C (SIGINT): it cancels the command's token.
            await SignalAsync(pid, "-TERM");
            await demo.WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);
        }
        finally
        {
            await StopIfRunningAsync(demo, pid);
        }

        var result = await demo;
        Assert.True(result.Code == 0, $"exit {result.Code}\nstdout: {result.Stdout}\nstderr: {result.Stderr}");
        using var summary = JsonDocument.Parse(result.Stdout);
        var root = summary.RootElement;
        Assert.True(root.GetProperty("ok").GetBoolean(), result.Stdout);
        Assert.Equal("ctrl-c", root.GetProperty("stopped").GetString());
        Assert.Equal("paused", root.GetProperty("rollout").GetProperty("state").GetString());
        Assert.Equal(root.GetProperty("inferences").GetInt64(), root.GetProperty("inferencesInMetrics").GetInt64());
    }

    [Fact]
    public async Task Unknown_option_is_a_usage_error_with_exit_2()
    {
        var result = await Edgectl.RunAsync("demo", "--durration", "5");

        Assert.Equal(2, result.Code);
        Assert.Contains("--durration", result.Stderr, StringComparison.Ordinal);
        Assert.StartsWith("edgectl: ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_refuses_a_nonsense_duration()
    {
        var result = await Edgectl.RunAsync("demo", "--duration", "-3");

        Assert.Equal(2, result.Code);
        Assert.Equal("edgectl: --duration must be positive", result.Stderr.Trim());
    }

    [Fact]
    public async Task Demo_refuses_a_fleet_size_it_cannot_run()
    {
        var none = await Edgectl.RunAsync("demo", "--devices", "0");
        Assert.Equal(2, none.Code);
        Assert.Equal("edgectl: --devices must be between 1 and 20", none.Stderr.Trim());

        var lifecycleOnly = await Edgectl.RunAsync("demo", "--lifecycle", "--ready-file", "x.json");
        Assert.Equal(2, lifecycleOnly.Code);
        Assert.Equal("edgectl: --ready-file, --broker-port and --dashboard are not options of demo --lifecycle", lifecycleOnly.Stderr.Trim());

        var badListen = await Edgectl.RunAsync("demo", "--dashboard", "8080");
        Assert.Equal(2, badListen.Code);
        Assert.StartsWith("edgectl: --dashboard: '8080' is not HOST:PORT", badListen.Stderr.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lifecycle_demo_refuses_a_fleet_without_room_for_a_canary()
    {
        var result = await Edgectl.RunAsync("demo", "--lifecycle", "--devices", "1");

        Assert.Equal(2, result.Code);
        Assert.Equal("edgectl: --devices must be between 2 and 50 (a canary wave and the rest)", result.Stderr.Trim());
    }

    private static string ReadyFilePath() => Path.Combine(Path.GetTempPath(), $"edgectl-demo-ready-{Guid.NewGuid():N}.json");

    private static JsonElement ReadyFile(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        return doc.RootElement.Clone();
    }

    /// <summary>Waits for the demo's ready file (broker up, agents started, rollout created): its broker URL and process id.</summary>
    private static async Task<(string Broker, int Pid, Uri? Dashboard)> ReadyAsync(string path, Task<Edgectl.Result> demo)
    {
        var deadline = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            if (demo.IsCompleted)
            {
                var ended = await demo;
                Assert.Fail($"the demo ended before it was ready: exit {ended.Code}\nstdout: {ended.Stdout}\nstderr: {ended.Stderr}");
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(90), "no ready file within 90 s");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        var ready = ReadyFile(path);
        File.Delete(path);
        Assert.Equal(RolloutId, ready.GetProperty("rollout").GetString());
        Assert.Equal(3, ready.GetProperty("devices").GetArrayLength());
        var dashboard = ready.GetProperty("dashboard").GetString();
        return (ready.GetProperty("broker").GetString()!, ready.GetProperty("pid").GetInt32(), dashboard is null ? null : new Uri(dashboard));
    }

    private static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start("kill", [signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>A test that failed half-way leaves no demo running.</summary>
    private static async Task StopIfRunningAsync(Task<Edgectl.Result> demo, int pid)
    {
        if (!demo.IsCompleted)
        {
            await SignalAsync(pid, "-KILL");
        }
    }

    private static async Task<DemoWatch> WatchAsync(string broker)
    {
        var connection = await FleetConnection.ConnectAsync(broker, cancellationToken: TestContext.Current.CancellationToken);
        var watch = new DemoWatch(connection);
        connection.MessageReceived += watch.OnMessage;
        foreach (var topic in new[] { $"edgeagent/v1/rollouts/{RolloutId}", "edgeagent/v1/devices/demo-1/reported", "edgeagent/v1/devices/demo-1/health", "edgeagent/v1/devices/demo-1/metrics" })
        {
            await connection.WatchAsync(topic, TestContext.Current.CancellationToken);
        }

        return watch;
    }

    /// <summary>What a test sees of the demo's fleet on its broker: the rollout, and demo-1's state, heartbeats and metrics.</summary>
    private sealed class DemoWatch(FleetConnection connection) : IAsyncDisposable
    {
        private readonly Lock _gate = new();
        private JsonElement? _rollout;
        private bool _active;
        private int _healthSinceActive;
        private int _metrics;

        public JsonElement? Rollout
        {
            get
            {
                lock (_gate)
                {
                    return _rollout;
                }
            }
        }

        public bool Demo1Active
        {
            get
            {
                lock (_gate)
                {
                    return _active;
                }
            }
        }

        public int Demo1HealthSinceActive
        {
            get
            {
                lock (_gate)
                {
                    return _healthSinceActive;
                }
            }
        }

        public int Demo1Metrics
        {
            get
            {
                lock (_gate)
                {
                    return _metrics;
                }
            }
        }

        public void OnMessage(string topic, byte[] payload)
        {
            if (payload.Length == 0)
            {
                return;
            }

            using var doc = JsonDocument.Parse(payload);
            var root = doc.RootElement.Clone();
            lock (_gate)
            {
                if (topic.Contains("/rollouts/", StringComparison.Ordinal))
                {
                    _rollout = root;
                }
                else if (topic.EndsWith("/reported", StringComparison.Ordinal))
                {
                    _active = root.GetProperty("models").EnumerateArray().Any(m => m.GetProperty("name").GetString() == "vibration" && m.GetProperty("state").GetString() == "Active");
                }
                else if (topic.EndsWith("/health", StringComparison.Ordinal) && _active)
                {
                    _healthSinceActive++;
                }
                else if (topic.EndsWith("/metrics", StringComparison.Ordinal))
                {
                    _metrics++;
                }
            }
        }

        public async Task UntilAsync(Func<bool> condition, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (!condition())
            {
                Assert.True(clock.Elapsed < timeout, $"not within {timeout.TotalSeconds:0} s; rollout: {Rollout}");
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
        }

        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }
}
