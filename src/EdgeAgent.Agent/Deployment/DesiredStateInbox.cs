using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Desired;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Deployment;

/// <summary>
/// Receives desired state (retained MQTT), validates it and wakes the reconcile loop. Nothing else: no disk I/O on the
/// MQTT receive path; the loop persists it (<see cref="Persist"/>) and decides what to do. A malformed document is
/// refused and the last good one stays in force.
/// </summary>
public sealed class DesiredStateInbox
{
    private readonly string _path;
    private readonly ILogger<DesiredStateInbox> _logger;
    private readonly ReconcileSignal _signal;
    private DesiredState? _current;
    private DesiredState? _unsaved;

    public DesiredStateInbox(IOptions<AgentOptions> options, ReconcileSignal signal, ILogger<DesiredStateInbox> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _path = Path.Combine(options.Value.StateDirectory, "desired.json");
        _signal = signal;
        _logger = logger;
    }

    /// <summary>The desired state in force: the last valid one received, or the one persisted before a restart.</summary>
    public DesiredState Current
    {
        get
        {
            if (Volatile.Read(ref _current) is { } current)
            {
                return current;
            }

            var loaded = File.Exists(_path) && DesiredState.TryParse(File.ReadAllBytes(_path), out var state, out _) ? state! : DesiredState.Empty;
            Interlocked.CompareExchange(ref _current, loaded, null);
            return _current!;
        }
    }

    private long _generation;

    /// <summary>Raised after a valid document was accepted.</summary>
    public event EventHandler? Accepted;

    /// <summary>
    /// Counts documents the operator published while this device listened (not the retained copy re-sent on every
    /// connect). A new one means "try again": failed attempts of the versions it names start over.
    /// </summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>Raised when a received document was refused or a valid one cleared an earlier refusal.</summary>
    public event EventHandler? ErrorChanged;

    /// <summary>The reason the latest received document was refused; null once a valid one arrived.</summary>
    public string? LastError { get; private set; }

    /// <summary>Writes the latest accepted document to <c>desired.json</c> (called by the reconcile loop before it plans).</summary>
    public void Persist()
    {
        if (Volatile.Read(ref _unsaved) is { } state)
        {
            // Cleared only after the write succeeded (and only if no newer document arrived meanwhile).
            StateFiles.WriteAtomically(_path, state.ToJson());
            Interlocked.CompareExchange(ref _unsaved, null, state);
        }
    }

    public void Receive(IncomingMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!DesiredState.TryParse(message.Payload, out var state, out var error))
        {
            var changed = LastError != error;
            LastError = error;
            Log.DesiredRejected(_logger, message.Topic, error);
            if (changed)
            {
                ErrorChanged?.Invoke(this, EventArgs.Empty);
            }

            return;
        }

        Volatile.Write(ref _current, state);
        Volatile.Write(ref _unsaved, state);
        if (!message.Retained)
        {
            Interlocked.Increment(ref _generation);
        }

        if (LastError is not null)
        {
            LastError = null;
            ErrorChanged?.Invoke(this, EventArgs.Empty);
        }

        if (_logger.IsEnabled(LogLevel.Information))
        {
            var models = string.Join(", ", state!.Models.Select(m => $"{m.Name} {m.Version}"));
            Log.DesiredAccepted(_logger, models);
        }

        Accepted?.Invoke(this, EventArgs.Empty);
        _signal.Wake();
    }
}
