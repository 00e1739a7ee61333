using EdgeAgent.Agent.Tests.Infrastructure;

namespace EdgeAgent.Agent.Tests.Systemd;

/// <summary>
/// The real agent under a fake systemd (see <see cref="FakeSystemd"/>): <c>Type=notify</c> readiness, the
/// <c>WatchdogSec=</c> pings tied to the reconcile loop, <c>STOPPING=1</c> on <c>systemctl stop</c>, and log lines in
/// journald's form.
/// </summary>
public sealed class SystemdNotifyTests
{
    [Fact]
    public async Task Under_systemd_the_agent_reports_ready_feeds_the_watchdog_and_reports_stopping_on_SIGTERM()
    {
        await using var systemd = new FakeSystemd();
        systemd.Start(TimeSpan.FromMilliseconds(600));

        await UntilAsync(systemd, () => systemd.Count("READY=1") == 1, "READY=1");
        var atReady = systemd.Count("WATCHDOG=1");

        // Pinged every WATCHDOG_USEC/2 (0.3 s): never silent for a whole watchdog interval while it runs.
        await UntilAsync(systemd, () => systemd.Count("WATCHDOG=1") >= atReady + 5, "five watchdog pings after READY=1");
        Assert.True(systemd.SinceLast("WATCHDOG=1") < systemd.WatchdogInterval, systemd.Describe());

        await systemd.StopAsync();

        await UntilAsync(systemd, () => systemd.Count("STOPPING=1") == 1, "STOPPING=1");
        Assert.True(await systemd.WaitForExitAsync(Wait.Default), systemd.Describe());
        Assert.Equal(0, systemd.ExitCode);

        // journald's form: each line starts with its syslog priority, <6> for Information.
        Assert.Contains(systemd.Output, l => l.StartsWith("<6>Microsoft.Hosting.Lifetime[", StringComparison.Ordinal));
        Assert.Contains(systemd.Output, l => l.StartsWith("<6>EdgeAgent.Agent.Systemd.SystemdWatchdogPing[7001] ", StringComparison.Ordinal));
        Assert.Contains(systemd.Output, l => l.StartsWith("<4>EdgeAgent.Agent.Mqtt.MqttSession[1002] ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_stuck_reconcile_loop_stops_the_watchdog_pings_so_systemd_would_restart_the_agent()
    {
        await using var systemd = new FakeSystemd();

        // The loop hangs at its 4th pass (one pass a second); after Agent:WatchdogSeconds without progress it is stalled.
        systemd.Start(TimeSpan.FromMilliseconds(600), new Dictionary<string, object> { ["RetryIntervalSeconds"] = 1, ["WatchdogSeconds"] = 1 }, hangAt: "pass:4");
        await UntilAsync(systemd, () => systemd.Count("READY=1") == 1 && systemd.Count("WATCHDOG=1") >= 3, "READY=1 and watchdog pings");

        // What systemd checks: no WATCHDOG=1 within WatchdogSec. The agent is still running when that happens.
        await UntilAsync(systemd, () => systemd.SinceLast("WATCHDOG=1") > systemd.WatchdogInterval * 3, "the watchdog pings to stop");
        Assert.False(systemd.AgentExited, systemd.Describe());
        Assert.Contains(systemd.Output, l => l.StartsWith("<4>EdgeAgent.Agent.Deployment.ReconcileLoop[7005] ", StringComparison.Ordinal));
        Assert.Single(systemd.Output, l => l.StartsWith("<3>EdgeAgent.Agent.Systemd.SystemdWatchdogPing[7002] systemd watchdog: pings stopped", StringComparison.Ordinal));

        // A stop still works while the loop hangs.
        await systemd.StopAsync();
        await UntilAsync(systemd, () => systemd.Count("STOPPING=1") == 1, "STOPPING=1");
        Assert.True(await systemd.WaitForExitAsync(Wait.Default), systemd.Describe());
    }

    private static async Task UntilAsync(FakeSystemd systemd, Func<bool> condition, string what)
    {
        try
        {
            await Wait.UntilAsync(condition, Wait.Default, what);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\n{systemd.Describe()}", ex);
        }
    }
}
