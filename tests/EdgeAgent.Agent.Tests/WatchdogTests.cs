using System.Diagnostics;
using EdgeAgent.Agent.Deployment;
using EdgeAgent.Agent.Tests.Infrastructure;

namespace EdgeAgent.Agent.Tests;

/// <summary>
/// The reconcile loop's watchdog must not cry wolf: an idle loop and a long healthy download keep it <c>ok</c>. (A loop
/// that really stalls, and what the pins and the LED do then: <see cref="GpioTests"/>.)
/// </summary>
public sealed class WatchdogTests
{
    [Fact]
    public async Task An_idle_loop_with_a_long_retry_interval_is_never_reported_stalled()
    {
        await using var rig = await AgentRig.StartAsync(overrides: new()
        {
            ["Agent:WatchdogSeconds"] = "2",
            ["Agent:RetryIntervalSeconds"] = "3600",
        });

        // Heartbeats every 0.5 s until the agent has been up for well over three watchdog timeouts.
        await Wait.UntilAsync(() => rig.Messages("health").Any(h => h.RootElement.GetProperty("uptimeSeconds").GetDouble() >= 7), Wait.Default, "seven seconds of heartbeats");

        var states = rig.Messages("health").Select(h => h.RootElement.GetProperty("watchdog").GetProperty("state").GetString()).ToList();
        Assert.True(states.Count >= 5, $"{states.Count} heartbeats");
        Assert.All(states, s => Assert.Equal("ok", s));
        Assert.DoesNotContain(rig.Logs, l => l.Contains("Watchdog:", StringComparison.Ordinal));
        Assert.True(rig.Service<ReconcileWatchdog>().IsHealthy);
    }

    [Fact]
    public async Task A_download_that_takes_longer_than_the_watchdog_timeout_is_not_a_stall()
    {
        // 256 KiB at 32 KiB/s: about 8 s of download, twice what the watchdog allows between beats (2 s, plus the 2 s
        // bound of a broker wait).
        await using var rig = await AgentRig.StartAsync(overrides: new()
        {
            ["Agent:WatchdogSeconds"] = "2",
            ["Agent:FetchTimeoutSeconds"] = "2",
            ["Agent:MaxFetchBytesPerSecond"] = "32768",
        });
        var bundle = rig.BuildBundleOf(AgentRig.FixtureModel("dense.onnx"), "1.0.0", chunkSize: 4096);
        await rig.PublishAsync(bundle);
        var took = Stopwatch.StartNew();

        await rig.DeployAsync("1.0.0");

        await rig.WaitForReportedAsync("Active", "1.0.0", TimeSpan.FromSeconds(60));
        Assert.True(took.Elapsed > TimeSpan.FromSeconds(4), $"the download took {took.Elapsed.TotalSeconds:0.0} s");
        Assert.DoesNotContain(rig.Logs, l => l.Contains("Watchdog:", StringComparison.Ordinal));
        Assert.All(rig.Messages("health"), h => Assert.Equal("ok", h.RootElement.GetProperty("watchdog").GetProperty("state").GetString()));
    }
}
