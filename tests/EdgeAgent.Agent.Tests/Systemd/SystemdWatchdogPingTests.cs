using System.Collections.Concurrent;
using EdgeAgent.Agent.Deployment;
using EdgeAgent.Agent.Options;
using EdgeAgent.Agent.Systemd;
using EdgeAgent.Agent.Tests.Infrastructure;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Agent.Tests.Systemd;

/// <summary>When the systemd watchdog ping goes out, and that its stop and resumption are each logged once.</summary>
public sealed class SystemdWatchdogPingTests
{
    [Theory]
    [InlineData(null, null, null)]
    [InlineData("0", null, null)]
    [InlineData("abc", null, null)]
    [InlineData("30000000", null, 15_000d)]
    [InlineData("30000000", "4242", 15_000d)]
    [InlineData("30000000", "4243", null)]
    [InlineData("1", null, 1d)]
    public void The_ping_interval_is_half_of_WATCHDOG_USEC_for_the_process_systemd_watches(string? usec, string? pid, double? milliseconds)
    {
        var environment = new Dictionary<string, string?> { ["WATCHDOG_USEC"] = usec, ["WATCHDOG_PID"] = pid };

        var interval = SystemdWatchdogPing.IntervalFrom(name => environment.GetValueOrDefault(name), 4242);

        Assert.Equal(milliseconds, interval?.TotalMilliseconds);
    }

    [Fact]
    public async Task Pings_stop_while_the_loop_is_stalled_and_resume_when_it_beats_again_each_logged_once()
    {
        var lines = new ConcurrentQueue<string>();
        using var logs = new ListLoggerProvider(lines);
        var notifier = new RecordingNotifier();
        using var factory = new LoggerFactory([logs]);
        var watchdog = new ReconcileWatchdog(Microsoft.Extensions.Options.Options.Create(new AgentOptions { WatchdogSeconds = 1 }), TimeProvider.System, factory.CreateLogger<ReconcileWatchdog>());
        var ping = new SystemdWatchdogPing(watchdog, notifier, TimeProvider.System, factory.CreateLogger<SystemdWatchdogPing>(), TimeSpan.FromSeconds(15));

        watchdog.Beat();
        ping.PingIfHealthy();
        Assert.Equal(1, notifier.Pings);

        await Wait.UntilAsync(() => !watchdog.IsHealthy, Wait.Default, "the loop to count as stalled");
        ping.PingIfHealthy();
        ping.PingIfHealthy();
        Assert.Equal(1, notifier.Pings);
        Assert.Single(lines, l => l.Contains("pings stopped", StringComparison.Ordinal));

        watchdog.Beat();
        ping.PingIfHealthy();
        ping.PingIfHealthy();
        Assert.Equal(3, notifier.Pings);
        Assert.Single(lines, l => l.Contains("pings resumed", StringComparison.Ordinal));
    }

    private sealed class RecordingNotifier : ISystemdNotifier
    {
        private int _pings;

        public bool IsEnabled => true;

        public int Pings => _pings;

        public void Notify(ServiceState state)
        {
            Assert.Equal("WATCHDOG=1", state.ToString());
            Interlocked.Increment(ref _pings);
        }
    }
}
