using System.Collections.Concurrent;
using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Desired;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Deployment;

/// <summary>
/// Receives desired state from its sources — a sideloaded install (<c>edgectl install</c>), the device topic and each
/// group topic — validates it and wakes the reconcile loop. Nothing else: no disk I/O on the MQTT receive path; the loop
/// persists it (<see cref="Persist"/>) and decides what to do. A malformed document is refused, reported as an event,
/// and the last good one from that source stays in force. Merge: local install, then the device entry, then the groups
/// in configured order; the first source naming a model wins.
/// </summary>
public sealed class DesiredStateInbox
{
    public const string LocalSource = "local";
    public const string DeviceSource = "device";

    private readonly ILogger<DesiredStateInbox> _logger;
    private readonly ReconcileSignal _signal;
    private readonly Source[] _sources;
    private readonly Dictionary<string, Source> _byName = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private DesiredState? _merged;
    private long _generation;
    private long _localGeneration;

    public DesiredStateInbox(IOptions<AgentOptions> options, ReconcileSignal signal, ILogger<DesiredStateInbox> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var dir = options.Value.StateDirectory;
        _signal = signal;
        _logger = logger;
        var sources = new List<Source>
        {
            new(LocalSource, Path.Combine(dir, "desired-local.json")),
            new(DeviceSource, Path.Combine(dir, "desired.json")),
        };
        sources.AddRange(options.Value.Groups.Distinct(StringComparer.Ordinal).Select(g => new Source("group:" + g, Path.Combine(dir, $"desired-group-{g}.json"))));
        _sources = [.. sources];
        foreach (var source in _sources)
        {
            _byName[source.Name] = source;
        }
    }

    /// <summary>The merged desired state in force (from the last valid document of each source, or what was persisted before a restart).</summary>
    public DesiredState Current
    {
        get
        {
            if (Volatile.Read(ref _merged) is { } merged)
            {
                return merged;
            }

            lock (_gate)
            {
                return _merged ??= Merge();
            }
        }
    }

    /// <summary>The sideloaded (air-gapped) entries, which win over every MQTT source.</summary>
    public DesiredState Local
    {
        get
        {
            lock (_gate)
            {
                return Load(_byName[LocalSource]);
            }
        }
    }

    /// <summary>Raised after a valid document was accepted.</summary>
    public event EventHandler? Accepted;

    /// <summary>
    /// Counts documents the operator published while this device listened (not the retained copy re-sent on every
    /// connect). A new one means "try again": failed attempts of the versions it names start over.
    /// </summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>Counts local pins and releases (<c>edgectl install</c>/<c>release</c>): "try again" for the pinned models only.</summary>
    public long LocalGeneration => Interlocked.Read(ref _localGeneration);

    /// <summary>Raised when a received document was refused or a valid one cleared an earlier refusal.</summary>
    public event EventHandler? ErrorChanged;

    /// <summary>Why a source's latest document was refused (the last such source in merge order); null when every source's latest one was valid.</summary>
    public string? LastError
    {
        get
        {
            lock (_gate)
            {
                return _sources.Select(s => s.Error).LastOrDefault(e => e is not null);
            }
        }
    }

    /// <summary>Refusals not yet turned into events (the loop drains them: the MQTT receive path does no disk I/O).</summary>
    public ConcurrentQueue<(string Topic, string Error)> Rejections { get; } = new();

    /// <summary>Writes the latest accepted documents (called by the reconcile loop before it plans).</summary>
    public void Persist()
    {
        foreach (var source in _sources)
        {
            if (Volatile.Read(ref source.Unsaved) is { } state)
            {
                // Cleared only after the write succeeded (and only if no newer document arrived meanwhile).
                StateFiles.WriteAtomically(source.Path, state.ToJson());
                Interlocked.CompareExchange(ref source.Unsaved, null, state);
            }
        }
    }

    /// <summary>The MQTT handler for a source: <see cref="DeviceSource"/> or <c>group:NAME</c>.</summary>
    public Action<IncomingMessage> HandlerFor(string source)
    {
        var target = _byName[source];
        return message => Receive(target, message);
    }

    /// <summary>Pins a model version locally (<c>edgectl install</c>): it wins over the fleet's desired state until released.</summary>
    public void Pin(DesiredModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var local = _byName[LocalSource];
        var next = new DesiredState { Models = [.. Local.Models.Where(m => m.Name != model.Name).Append(model).OrderBy(m => m.Name, StringComparer.Ordinal)] };
        StateFiles.WriteAtomically(local.Path, next.ToJson());
        Accept(local, next, counts: true);
    }

    /// <summary>Hands a model back to the fleet's desired state; false when it was not pinned.</summary>
    public bool Release(string name)
    {
        var local = _byName[LocalSource];
        var current = Local;
        if (!current.Models.Any(m => m.Name == name))
        {
            return false;
        }

        var next = new DesiredState { Models = [.. current.Models.Where(m => m.Name != name)] };
        StateFiles.WriteAtomically(local.Path, next.ToJson());
        Accept(local, next, counts: true);
        return true;
    }

    private void Receive(Source source, IncomingMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!DesiredState.TryParse(message.Payload, out var state, out var error))
        {
            bool changed;
            lock (_gate)
            {
                changed = source.Error != error;
                source.Error = error;
            }

            Log.DesiredRejected(_logger, message.Topic, error);
            Rejections.Enqueue((message.Topic, error));
            _signal.Wake();
            if (changed)
            {
                ErrorChanged?.Invoke(this, EventArgs.Empty);
            }

            return;
        }

        Volatile.Write(ref source.Unsaved, state);
        Accept(source, state!, counts: !message.Retained);
    }

    private void Accept(Source source, DesiredState state, bool counts)
    {
        bool cleared;
        lock (_gate)
        {
            source.Document = state;
            cleared = source.Error is not null;
            source.Error = null;
            _merged = Merge();
        }

        if (counts)
        {
            Interlocked.Increment(ref source.Name == LocalSource ? ref _localGeneration : ref _generation);
        }

        if (cleared)
        {
            ErrorChanged?.Invoke(this, EventArgs.Empty);
        }

        if (_logger.IsEnabled(LogLevel.Information))
        {
            var models = string.Join(", ", Current.Models.Select(m => $"{m.Name} {m.Version}"));
            Log.DesiredAccepted(_logger, models);
        }

        Accepted?.Invoke(this, EventArgs.Empty);
        _signal.Wake();
    }

    private DesiredState Merge()
    {
        var first = Load(_sources[0]);
        return DesiredState.Merge(first, _sources.Skip(1).Select(Load));
    }

    private static DesiredState Load(Source source)
    {
        if (source.Document is { } document)
        {
            return document;
        }

        var loaded = File.Exists(source.Path) && DesiredState.TryParse(File.ReadAllBytes(source.Path), out var state, out _) ? state! : DesiredState.Empty;
        source.Document = loaded;
        return loaded;
    }

    private sealed class Source(string name, string path)
    {
        public string Name { get; } = name;

        public string Path { get; } = path;

        public DesiredState? Document;
        public DesiredState? Unsaved;
        public string? Error;
    }
}
