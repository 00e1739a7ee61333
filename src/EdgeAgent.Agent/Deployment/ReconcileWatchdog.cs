using EdgeAgent.Agent.Json;
using EdgeAgent.Agent.Options;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Deployment;

/// <summary>
/// Knows whether the reconcile loop is making progress. The loop calls <see cref="Beat()"/> on every pass, at every
/// deployment state change, on every chunk written and at least every <see cref="BeatInterval"/> while it waits idle;
/// when no beat came for <c>Agent:WatchdogSeconds</c> the loop is stalled (a step that hangs: a blocked disk, a driver
/// call that never returns, a deadlock). A check once a second turns a stall into a watchdog failure: a warning (event
/// 5007) and <see cref="Stalled"/> (rule pins to their safe state, status LED <c>error</c>, health published now); when
/// beats resume, event 5008 and <see cref="Recovered"/>. <see cref="IsHealthy"/> is the one question a supervisor asks
/// (the systemd <c>WATCHDOG=1</c> ping is to be sent only while it is true).
/// </summary>
public sealed class ReconcileWatchdog : BackgroundService
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly ILogger<ReconcileWatchdog> _logger;
    private BeatRecord _last;
    private volatile bool _stalled;

    public ReconcileWatchdog(IOptions<AgentOptions> options, TimeProvider time, ILogger<ReconcileWatchdog> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _logger = logger;
        Timeout = TimeSpan.FromSeconds(options.Value.WatchdogSeconds);

        // A third of the timeout, at most 5 s: an idle loop beats several times within one timeout.
        BeatInterval = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(5).Ticks, Timeout.Ticks / 3));
        _last = new BeatRecord(time.GetTimestamp(), TimeSpan.Zero);
    }

    /// <summary>Raised once when the loop is found stalled, with how long it has been silent.</summary>
    public event EventHandler<TimeSpan>? Stalled;

    /// <summary>Raised once when a stalled loop beats again.</summary>
    public event EventHandler? Recovered;

    /// <summary><c>Agent:WatchdogSeconds</c>: the longest silence of a healthy loop.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>The longest the loop waits idle between beats.</summary>
    public TimeSpan BeatInterval { get; }

    /// <summary>Time since the loop last beat.</summary>
    public TimeSpan SinceLastBeat => _time.GetElapsedTime(Volatile.Read(ref _last).At);

    /// <summary>
    /// True while the loop beats: the last beat is at most <see cref="Timeout"/> old (plus the bound of a broker wait it
    /// announced with <see cref="Beat(TimeSpan)"/>). Read live, so it turns true again with the first beat after a stall.
    /// </summary>
    public bool IsHealthy
    {
        get
        {
            var last = Volatile.Read(ref _last);
            return _time.GetElapsedTime(last.At) <= Timeout + last.BoundedWait;
        }
    }

    /// <summary>The <c>watchdog</c> entry of the health document and of <c>/v1/status</c>.</summary>
    public WatchdogStatus Status() => new(IsHealthy ? "ok" : "stalled", Math.Round(SinceLastBeat.TotalSeconds, 1), Timeout.TotalSeconds);

    /// <summary>The loop made progress.</summary>
    public void Beat() => Volatile.Write(ref _last, new BeatRecord(_time.GetTimestamp(), TimeSpan.Zero));

    /// <summary>
    /// The loop made progress and now waits on the broker for at most <paramref name="boundedWait"/> (its own timeout,
    /// <c>Agent:FetchTimeoutSeconds</c>, after which the step fails and the loop beats again): a wait that long is not a
    /// stall, so the allowed silence until the next beat grows by it.
    /// </summary>
    public void Beat(TimeSpan boundedWait) => Volatile.Write(ref _last, new BeatRecord(_time.GetTimestamp(), boundedWait));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Check();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>One check: raises <see cref="Stalled"/> or <see cref="Recovered"/> on a change.</summary>
    internal void Check()
    {
        var healthy = IsHealthy;
        var silent = SinceLastBeat;
        if (!healthy && !_stalled)
        {
            _stalled = true;
            Log.WatchdogStalled(_logger, Math.Round(silent.TotalSeconds), Timeout.TotalSeconds);
            Raise(() => Stalled?.Invoke(this, silent));
        }
        else if (healthy && _stalled)
        {
            _stalled = false;
            Raise(() => Recovered?.Invoke(this, EventArgs.Empty));
            Log.WatchdogRecovered(_logger);
        }
    }

    private void Raise(Action raise)
    {
        try
        {
            raise();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A failing subscriber (e.g. a pin write) must not end the monitor.
            Log.ServiceError(_logger, nameof(ReconcileWatchdog), ex);
        }
    }

    private sealed record BeatRecord(long At, TimeSpan BoundedWait);
}
