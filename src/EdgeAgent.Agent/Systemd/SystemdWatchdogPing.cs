using System.Globalization;
using EdgeAgent.Agent.Deployment;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Agent.Systemd;

/// <summary>
/// Feeds systemd's watchdog (<c>WatchdogSec=</c> in the unit): when systemd set <c>WATCHDOG_USEC</c> (and
/// <c>WATCHDOG_PID</c>, if set, is this process), sends <c>WATCHDOG=1</c> on <c>NOTIFY_SOCKET</c> every half of that
/// interval, but only while <see cref="ReconcileWatchdog.IsHealthy"/>. A stalled reconcile loop stops the pings (event
/// 7002), systemd kills the service after <c>WatchdogSec</c> and restarts it; pings that resume before that are event
/// 7003. Outside systemd (no <c>WATCHDOG_USEC</c>) it does nothing.
/// </summary>
public sealed class SystemdWatchdogPing : BackgroundService
{
    private static readonly ServiceState Ping = new("WATCHDOG=1");

    private readonly ReconcileWatchdog _watchdog;
    private readonly ISystemdNotifier _notifier;
    private readonly TimeProvider _time;
    private readonly ILogger<SystemdWatchdogPing> _logger;
    private bool _stopped;
    private long _sent;

    public SystemdWatchdogPing(ReconcileWatchdog watchdog, ISystemdNotifier notifier, TimeProvider time, ILogger<SystemdWatchdogPing> logger)
        : this(watchdog, notifier, time, logger, IntervalFrom(Environment.GetEnvironmentVariable, Environment.ProcessId))
    {
    }

    internal SystemdWatchdogPing(ReconcileWatchdog watchdog, ISystemdNotifier notifier, TimeProvider time, ILogger<SystemdWatchdogPing> logger, TimeSpan? interval)
    {
        ArgumentNullException.ThrowIfNull(watchdog);
        ArgumentNullException.ThrowIfNull(notifier);
        ArgumentNullException.ThrowIfNull(time);
        _watchdog = watchdog;
        _notifier = notifier;
        _time = time;
        _logger = logger;
        Interval = interval;
    }

    /// <summary>Time between pings (half of <c>WATCHDOG_USEC</c>); null when systemd's watchdog is not enabled for us.</summary>
    public TimeSpan? Interval { get; }

    /// <summary>Pings sent so far.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>
    /// What <c>sd_watchdog_enabled()</c> decides: the ping interval (half of <c>WATCHDOG_USEC</c>, at least 1 ms) when
    /// <c>WATCHDOG_USEC</c> is a positive number and <c>WATCHDOG_PID</c> is unset or <paramref name="processId"/>; else null.
    /// </summary>
    public static TimeSpan? IntervalFrom(Func<string, string?> environment, int processId)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (!long.TryParse(environment("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out var usec) || usec <= 0)
        {
            return null;
        }

        if (environment("WATCHDOG_PID") is { Length: > 0 } pid
            && (!int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var watched) || watched != processId))
        {
            return null;
        }

        return TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, usec * 10 / 2));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Interval is not { } interval || !_notifier.IsEnabled)
        {
            return;
        }

        Log.SystemdWatchdogEnabled(_logger, interval.TotalSeconds * 2);
        using var timer = new PeriodicTimer(interval, _time);
        try
        {
            do
            {
                PingIfHealthy();
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: STOPPING=1 comes from the systemd lifetime.
        }
    }

    /// <summary>One tick: a ping while the loop is healthy; logs once when pings stop and once when they resume.</summary>
    internal void PingIfHealthy()
    {
        if (_watchdog.IsHealthy)
        {
            if (_stopped)
            {
                _stopped = false;
                Log.SystemdWatchdogResumed(_logger);
            }

            try
            {
                _notifier.Notify(Ping);
                Interlocked.Increment(ref _sent);
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or ObjectDisposedException)
            {
                Log.SystemdNotifyFailed(_logger, ex.Message);
            }
        }
        else if (!_stopped)
        {
            _stopped = true;
            Log.SystemdWatchdogStopped(_logger, Math.Round(_watchdog.SinceLastBeat.TotalSeconds), Interval?.TotalSeconds * 2 ?? 0);
        }
    }
}
