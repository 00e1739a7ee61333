using System.Device.Gpio;
using EdgeAgent.Agent.Deployment;
using EdgeAgent.Agent.Hardware;
using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Tests.Infrastructure;
using EdgeAgent.Core.Deployment;

namespace EdgeAgent.Agent.Tests;

public sealed class GpioTests
{
    /// <summary>Row 2 of samples/vibration/request.json is class 2: probabilities[2*3+2] is its probability, label[2] is 2.</summary>
    private static Dictionary<string, string?> RuleConfig(double holdSeconds) => new()
    {
        ["Gpio:Enabled"] = "true",
        ["Gpio:Rules:0:Model"] = AgentRig.Model,
        ["Gpio:Rules:0:Output"] = "probabilities",
        ["Gpio:Rules:0:Index"] = "8",
        ["Gpio:Rules:0:Above"] = "0.5",
        ["Gpio:Rules:0:Pin"] = "17",
        ["Gpio:Rules:0:HoldSeconds"] = holdSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Gpio:Rules:1:Model"] = AgentRig.Model,
        ["Gpio:Rules:1:Output"] = "label",
        ["Gpio:Rules:1:Index"] = "0",
        ["Gpio:Rules:1:EqualTo"] = "2",
        ["Gpio:Rules:1:Pin"] = "18",
        ["Gpio:Rules:1:Level"] = "Low",
    };

    private const string NegativeX = """{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[-1,4,9,16]}]}""";

    private static async Task<(AgentRig Rig, SimulatedGpioDriver Driver)> StartAsync(Dictionary<string, string?> overrides, TestBroker? broker = null)
    {
        var driver = new SimulatedGpioDriver();
        var rig = await AgentRig.StartAsync(broker, overrides: overrides, startAgent: false);
        rig.Gpio = () => new GpioController(driver);
        await rig.StartAgentAsync();
        return (rig, driver);
    }

    [Fact]
    public async Task A_rule_drives_its_pin_while_the_output_crosses_the_threshold_and_releases_it_after_the_hold()
    {
        var (rig, driver) = await StartAsync(RuleConfig(holdSeconds: 0.3));
        await using var _ = rig;
        Assert.Equal(PinValue.Low, driver.Value(17));
        Assert.Equal(PinValue.High, driver.Value(18));
        await rig.DeployActiveAsync();

        using var api = rig.Api();
        var (status, _) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
        Assert.Equal(200, status);

        // Driven before the response was written back; rule 1 (label[0] == 2) did not match, so pin 18 stays inactive.
        Assert.Equal(PinValue.High, driver.Value(17));
        Assert.Equal(PinValue.High, driver.Value(18));
        var (_, gpio) = await api.GetAsync("/v1/gpio");
        var pin17 = gpio.RootElement.GetProperty("pins").EnumerateArray().Single(p => p.GetProperty("pin").GetInt32() == 17);
        Assert.Equal("Output", pin17.GetProperty("mode").GetString());
        Assert.StartsWith("rule 0", pin17.GetProperty("owner").GetString(), StringComparison.Ordinal);

        await Wait.UntilAsync(() => driver.Value(17) == PinValue.Low, Wait.Default, "pin 17 back to Low after the hold");
        Assert.Equal(PinValue.High, driver.Value(18));
    }

    [Fact]
    public async Task Unloading_the_model_drives_the_rule_pins_to_their_safe_state()
    {
        var (rig, driver) = await StartAsync(RuleConfig(holdSeconds: 3600));
        await using var _ = rig;
        await rig.DeployActiveAsync();
        using var api = rig.Api();
        var (status, _) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
        Assert.Equal(200, status);
        Assert.Equal(PinValue.High, driver.Value(17));

        await rig.PublishDesiredAsync("""{"models":[]}""");

        await Wait.UntilAsync(() => driver.Value(17) == PinValue.Low, Wait.Default, "pin 17 in its safe state after the unload");
    }

    [Fact]
    public async Task The_status_led_follows_the_agent_state()
    {
        var (rig, driver) = await StartAsync(new() { ["Gpio:Enabled"] = "true", ["Gpio:StatusLedPin"] = "5" });
        await using var _ = rig;
        var led = rig.Service<StatusLed>();
        await Wait.UntilAsync(() => led.Pattern == StatusLed.Ready && driver.Value(5) == PinValue.High, Wait.Default, "LED steady on (ready)");

        // A version nobody published: the deployment waits for its manifest, in progress.
        await rig.DeployAsync("9.9.9");
        await Wait.UntilAsync(() => led.Pattern == StatusLed.Updating, Wait.Default, "LED pattern updating");
        var writes = driver.WritesTo(5);
        await Wait.UntilAsync(() => driver.WritesTo(5) >= writes + 2, Wait.Default, "LED blinking");

        rig.Service<DeploymentStore>().Update("broken", _ => new ModelRecord { Name = "broken", State = DeploymentStates.Failed, Reason = "test" });
        await Wait.UntilAsync(() => led.Pattern == StatusLed.Error && driver.Value(5) == PinValue.Low, Wait.Default, "LED dark between flashes (error)");
        await Wait.UntilAsync(() => led.Pattern == StatusLed.Error && driver.Value(5) == PinValue.High, Wait.Default, "LED flashing (error), not just off");
    }

    [Fact]
    public async Task An_input_edge_publishes_health_now_once_per_debounce_window()
    {
        var (rig, driver) = await StartAsync(new()
        {
            ["Telemetry:HealthIntervalSeconds"] = "3600",
            ["Gpio:Enabled"] = "true",
            ["Gpio:Inputs:0:Pin"] = "22",
            ["Gpio:Inputs:0:Action"] = "report-now",
            ["Gpio:Inputs:0:DebounceMilliseconds"] = "60000",
        });
        await using var _ = rig;
        await Wait.UntilAsync(() => rig.Service<MqttSession>().IsConnected, Wait.Default, "agent connected");
        Assert.Empty(rig.Messages("health"));

        driver.RaiseRising(22);
        driver.RaiseRising(22);

        var inputs = rig.Service<GpioInputs>();
        Assert.Equal(1, inputs.Triggered);
        Assert.Equal(1, inputs.Debounced);
        var health = await Wait.ForAsync(() => rig.LastMessage("health"), Wait.Default, "a health message");
        Assert.True(health.RootElement.GetProperty("gpio").GetProperty("available").GetBoolean());
    }

    [Fact]
    public async Task Without_a_gpio_chip_the_agent_keeps_serving_and_reports_gpio_unavailable()
    {
        var rig = await AgentRig.StartAsync(overrides: RuleConfig(holdSeconds: 1), startAgent: false);
        await using var _ = rig;
        rig.Gpio = () => throw new IOException("no gpiochip found");
        await rig.StartAgentAsync();
        await rig.DeployActiveAsync();

        using var api = rig.Api();
        var (status, _) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
        Assert.Equal(200, status);

        var health = await Wait.ForAsync(() => rig.LastMessage("health"), Wait.Default, "a health message");
        var gpio = health.RootElement.GetProperty("gpio");
        Assert.False(gpio.GetProperty("available").GetBoolean());
        Assert.Contains("no gpiochip", gpio.GetProperty("error").GetString(), StringComparison.Ordinal);
        var (_, agentStatus) = await api.GetAsync("/v1/status");
        Assert.False(agentStatus.RootElement.GetProperty("gpio").GetProperty("available").GetBoolean());
        Assert.Single(rig.Logs, l => l.Contains("GPIO is not available", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_status_led_blinks_degraded_while_the_broker_is_unreachable_and_is_steady_again_when_it_returns()
    {
        var port = Fleet.Mqtt.EmbeddedBroker.FreePort();
        var (rig, driver) = await StartAsync(new() { ["Gpio:Enabled"] = "true", ["Gpio:StatusLedPin"] = "5" }, await TestBroker.EmbeddedAsync(port));
        await using var _ = rig;
        var led = rig.Service<StatusLed>();
        await Wait.UntilAsync(() => led.Pattern == StatusLed.Ready && driver.Value(5) == PinValue.High, Wait.Default, "LED steady on (ready)");

        await rig.Broker.DisposeAsync();

        await Wait.UntilAsync(() => led.Pattern == StatusLed.Degraded, Wait.Default, "LED pattern degraded");
        var writes = driver.WritesTo(5);
        await Wait.UntilAsync(() => driver.WritesTo(5) >= writes + 4, Wait.Default, "LED blinking");
        using var api = rig.Api();
        var (_, gpio) = await api.GetAsync("/v1/gpio");
        Assert.Equal(StatusLed.Degraded, gpio.RootElement.GetProperty("statusLed").GetString());

        await rig.ReplaceBrokerAsync(await TestBroker.EmbeddedAsync(port));

        await Wait.UntilAsync(() => led.Pattern == StatusLed.Ready && driver.Value(5) == PinValue.High, Wait.Default, "LED steady on again (ready)");
    }

    [Fact]
    public async Task A_stalled_reconcile_loop_is_a_watchdog_failure_until_the_loop_moves_again()
    {
        var config = RuleConfig(holdSeconds: 3600);
        config["Gpio:StatusLedPin"] = "5";
        config["Agent:WatchdogSeconds"] = "3";
        var (rig, driver) = await StartAsync(config);
        await using var _ = rig;
        await rig.DeployActiveAsync();
        var watchdog = rig.Service<ReconcileWatchdog>();
        var led = rig.Service<StatusLed>();
        await Wait.UntilAsync(() => watchdog.IsHealthy && led.Pattern == StatusLed.Ready, Wait.Default, "a healthy loop and the LED ready");
        using var api = rig.Api();
        Assert.Equal(200, (await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest)).Status);
        Assert.Equal(PinValue.High, driver.Value(17));

        // A step that hangs (a stuck disk, a driver call that never returns): a listener that blocks the loop's own thread
        // when the deployment of 2.0.0 records Fetching.
        using var release = new ManualResetEventSlim();
        var blocked = 0;
        void Hang(object? sender, ModelRecord record)
        {
            if (record is { State: DeploymentStates.Fetching, TargetVersion: "2.0.0" } && Interlocked.Exchange(ref blocked, 1) == 0)
            {
                release.Wait(TestContext.Current.CancellationToken);
            }
        }

        var store = rig.Service<DeploymentStore>();
        store.Changed += Hang;
        try
        {
            await rig.PublishAsync(rig.BuildBundle("2.0.0", variant: 2));
            await rig.DeployAsync("2.0.0");

            await Wait.UntilAsync(() => driver.Value(17) == PinValue.Low, Wait.Default, "rule pin 17 in its safe state");
            await Wait.UntilAsync(() => led.Pattern == StatusLed.Error && driver.Value(5) == PinValue.Low, Wait.Default, "LED off (error)");
            Assert.Equal(1, blocked);
            var (_, status) = await api.GetAsync("/v1/status");
            var stalled = status.RootElement.GetProperty("watchdog");
            Assert.Equal("stalled", stalled.GetProperty("state").GetString());
            Assert.True(stalled.GetProperty("lastBeatSecondsAgo").GetDouble() > 3, stalled.ToString());
            Assert.Equal(3, stalled.GetProperty("timeoutSeconds").GetDouble());
            await Wait.ForAsync(() => rig.Messages("health").LastOrDefault(h => h.RootElement.GetProperty("watchdog").GetProperty("state").GetString() == "stalled"), Wait.Default, "a health message saying stalled");
            Assert.Contains(rig.Logs, l => l.Contains("Watchdog: the reconcile loop made no progress for", StringComparison.Ordinal));
            Assert.Contains(rig.Logs, l => l.Contains("GPIO rule pins of all models to their safe state (watchdog: reconcile loop stalled for", StringComparison.Ordinal));

            // While the loop is stalled a prediction that matches does not drive the pin.
            Assert.Equal(200, (await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest)).Status);
            Assert.Equal(PinValue.Low, driver.Value(17));
        }
        finally
        {
            release.Set();
            store.Changed -= Hang;
        }

        await rig.WaitForReportedAsync("Active", "2.0.0");
        await Wait.UntilAsync(() => rig.Logs.Any(l => l.Contains("Watchdog: the reconcile loop is making progress again", StringComparison.Ordinal)), Wait.Default, "the watchdog to see the loop move");
        await Wait.UntilAsync(() => led.Pattern == StatusLed.Ready && driver.Value(5) == PinValue.High, Wait.Default, "LED steady on again (ready)");
        var (_, after) = await api.GetAsync("/v1/status");
        Assert.Equal("ok", after.RootElement.GetProperty("watchdog").GetProperty("state").GetString());
        Assert.Equal(200, (await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest)).Status);
        Assert.Equal(PinValue.High, driver.Value(17));
    }

    [Fact]
    public async Task An_infer_input_runs_the_configured_request_and_its_prediction_drives_the_rule_pin()
    {
        var config = RuleConfig(holdSeconds: 3600);
        config["Gpio:Inputs:0:Pin"] = "22";
        config["Gpio:Inputs:0:Action"] = "infer";
        config["Gpio:Inputs:0:Model"] = AgentRig.Model;
        config["Gpio:Inputs:0:Request"] = Path.Combine(AppContext.BaseDirectory, "samples", "request.json");
        var (rig, driver) = await StartAsync(config);
        await using var _ = rig;
        await rig.DeployActiveAsync();
        Assert.Equal(PinValue.Low, driver.Value(17));

        driver.RaiseRising(22);

        await Wait.UntilAsync(() => driver.Value(17) == PinValue.High, Wait.Default, "the input's prediction to drive rule pin 17");
        using var api = rig.Api();
        var (_, models) = await api.GetAsync("/v1/models");
        Assert.Equal(1, models.RootElement.EnumerateArray().Single(m => m.GetProperty("name").GetString() == AgentRig.Model).GetProperty("requests").GetInt64());
        Assert.Contains(rig.Logs, l => l.Contains("GPIO input pin 22: infer", StringComparison.Ordinal));
    }

    [Fact]
    public async Task In_dry_run_a_matching_rule_drives_no_pin_and_gpio_shows_the_level_it_would_have_driven()
    {
        var config = RuleConfig(holdSeconds: 3600);
        config["Gpio:DryRun"] = "true";
        var (rig, driver) = await StartAsync(config);
        await using var _ = rig;
        await rig.DeployActiveAsync();
        using var api = rig.Api();

        Assert.Equal(200, (await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest)).Status);

        Assert.Null(driver.Value(17));
        Assert.Empty(driver.Writes);
        var (_, gpio) = await api.GetAsync("/v1/gpio");
        Assert.True(gpio.RootElement.GetProperty("dryRun").GetBoolean());
        var pin17 = gpio.RootElement.GetProperty("pins").EnumerateArray().Single(p => p.GetProperty("pin").GetInt32() == 17);
        Assert.Equal("High", pin17.GetProperty("value").GetString());
        Assert.Contains(rig.Logs, l => l.Contains("GPIO dry run: pin 17 -> High (rule 0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_version_rolled_back_in_probation_leaves_its_rule_pins_in_their_safe_state()
    {
        // Rule on y[1] of the fixture models: sqrt.onnx (2.0.0) answers NaN for a negative x[0], and sqrt(4) = 2 > 1.
        var (rig, driver) = await StartAsync(new()
        {
            ["Gpio:Enabled"] = "true",
            ["Gpio:Rules:0:Model"] = AgentRig.Model,
            ["Gpio:Rules:0:Output"] = "y",
            ["Gpio:Rules:0:Index"] = "1",
            ["Gpio:Rules:0:Above"] = "1",
            ["Gpio:Rules:0:Pin"] = "17",
            ["Gpio:Rules:0:HoldSeconds"] = "3600",
        });
        await using var _ = rig;
        await rig.PublishAsync(rig.BuildBundleOf(AgentRig.FixtureModel("twice.onnx"), "1.0.0"));
        await rig.DeployAsync("1.0.0");
        await rig.WaitForReportedAsync("Active", "1.0.0");
        await rig.PublishAsync(rig.BuildBundleOf(AgentRig.FixtureModel("sqrt.onnx"), "2.0.0"));
        await rig.PublishDesiredAsync("""{"models":[{"name":"vibration","version":"2.0.0","probationSeconds":120}]}""");
        await rig.WaitForReportedAsync("Probation", "2.0.0");

        using var api = rig.Api();
        var (status, body) = await api.PostAsync("/v2/models/vibration/infer", NegativeX);
        Assert.Equal(200, status);
        Assert.Equal("2.0.0", body.RootElement.GetProperty("model_version").GetString());

        await rig.WaitForReportedAsync("RolledBack", "2.0.0");
        await Wait.UntilAsync(() => driver.Value(17) == PinValue.Low, Wait.Default, "rule pin 17 in its safe state after the rollback");
        var writes = driver.Writes.Where(w => w.Pin == 17).Select(w => w.Value).ToList();
        Assert.Contains(PinValue.High, writes);
        Assert.Equal(PinValue.Low, writes[^1]);
        Assert.Contains(rig.Logs, l => l.Contains("GPIO rule pins of vibration to their safe state (RollingBack)", StringComparison.Ordinal));
    }
}
