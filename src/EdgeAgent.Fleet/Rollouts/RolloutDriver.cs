using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeAgent.Core;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Fleet.Rollouts;

/// <summary>
/// Drives one rollout over MQTT: writes desired states wave by wave, watches the devices' <c>reported</c> documents,
/// obeys pause/resume/abort published by any edgectl on <c>{p}/rollouts/{id}</c>, and on abort writes the targeted
/// devices' previous desired entries back. Decisions come from <see cref="RolloutGate"/>; every state change is published
/// (retained) before it is acted on. While it drives, it holds a retained lease on <c>{p}/rollouts/{id}/driver</c> that
/// its connection's will clears, so <c>resume</c> can tell a live driver from a dead one.
/// </summary>
public sealed class RolloutDriver : IDisposable
{
    /// <summary>How long a read of a retained document waits before concluding there is none.</summary>
    public static readonly TimeSpan RetainedWait = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    private readonly FleetConnection _connection;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, DeviceReport> _reports = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RolloutDocument> _external = new();
    private readonly SemaphoreSlim _wake = new(0);
    private string? _otherDriver;
    private string? _model;

    public RolloutDriver(FleetConnection connection, string rolloutId, string writer, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        Id = rolloutId;
        Writer = writer;
        _time = time ?? TimeProvider.System;
    }

    public string Id { get; }

    /// <summary>This process's name in the rollout state's <c>writer</c> and in the lease.</summary>
    public string Writer { get; }

    /// <summary>One line per noteworthy change (a wave started, a device succeeded or failed, paused, aborted ...).</summary>
    public event Action<RolloutDocument, string>? Progress;

    /// <summary>A fresh writer name for this process.</summary>
    public static string NewWriter() => $"edgectl-{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>The retained rollout state; null when there is none.</summary>
    public static async Task<RolloutDocument?> ReadAsync(FleetConnection connection, string id, TimeSpan? wait = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var topic = connection.Topics.Rollout(id);
        var payload = await connection.ReadRetainedAsync(topic, wait ?? RetainedWait, cancellationToken);
        return payload is null || payload.Length == 0 ? null : RolloutDocument.Parse(payload, topic);
    }

    /// <summary>The writer name of the process that holds the rollout's lease; null when no process drives it.</summary>
    public static async Task<string?> DriverOfAsync(FleetConnection connection, string id, TimeSpan? wait = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var payload = await connection.ReadRetainedAsync(connection.Topics.RolloutDriver(id), wait ?? TimeSpan.FromSeconds(1), cancellationToken);
        return LeaseWriter(payload);
    }

    /// <summary>Publishes a new revision of the state, retained, as <paramref name="writer"/>.</summary>
    public static async Task<RolloutDocument> PublishAsync(FleetConnection connection, RolloutDocument doc, string writer, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(doc);
        var next = doc with { Revision = doc.Revision + 1, Writer = writer, Updated = now };
        var json = next.ToJson();
        if (json.Length > RolloutDocument.MaxBytes)
        {
            throw new InvalidDataException($"the rollout state would be {json.Length} bytes, more than {RolloutDocument.MaxBytes}; split the rollout");
        }

        await connection.PublishAsync(connection.Topics.Rollout(doc.Id), json, retain: true, cancellationToken);
        return next;
    }

    /// <summary>
    /// Writes back the previous desired entry of every device <see cref="RolloutGate.ToRestore"/> names (other models
    /// in the device's document are left as they are now), then publishes the state with those devices marked restored.
    /// </summary>
    public static async Task<RolloutDocument> RollBackAsync(FleetConnection connection, RolloutDocument doc, string writer, TimeProvider time, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(doc);
        ArgumentNullException.ThrowIfNull(time);
        var ids = RolloutGate.ToRestore(doc);
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (id, ct) =>
        {
            var device = doc.Devices[id];
            var current = await DesiredStateWriter.ReadAsync(connection, id, RetainedWait, ct);
            var previousEntry = DesiredStateWriter.EntryOf(device.PreviousDesired, doc.Model);
            var restored = DesiredStateWriter.WithEntry(current, doc.Model, previousEntry, clearWhenEmpty: device.PreviousDesired is null);
            await DesiredStateWriter.PublishAsync(connection, id, restored, ct);
            progress?.Invoke(previousEntry is { } e
                ? $"{id}: desired {doc.Model} back to {e.GetProperty("version").GetString()}"
                : $"{id}: {doc.Model} removed from desired state (it was not desired before)");
        });
        var devices = new Dictionary<string, RolloutDevice>(doc.Devices, StringComparer.Ordinal);
        var now = time.GetUtcNow();
        foreach (var id in ids)
        {
            devices[id] = devices[id] with { Restored = true, Updated = now };
        }

        return await PublishAsync(connection, doc with { Devices = devices }, writer, now, cancellationToken);
    }

    /// <summary>Publishes a new rollout (refusing an id whose rollout has not ended); the caller then calls <see cref="DriveAsync"/>.</summary>
    public async Task<RolloutDocument> CreateAsync(RolloutRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await ReadAsync(_connection, request.Id, TimeSpan.FromSeconds(1), cancellationToken) is { IsFinal: false } existing)
        {
            throw new ArgumentException($"rollout '{request.Id}' exists and is {existing.State}; use 'edgectl rollout resume {request.Id}' or abort it first");
        }

        var now = _time.GetUtcNow();
        var doc = RolloutGate.Start(request, now, Writer);
        return await PublishAsync(_connection, doc with { Revision = 0 }, Writer, now, cancellationToken);
    }

    /// <summary>Drives the rollout until it is completed or aborted (or <paramref name="cancellationToken"/> stops this process; the rollout then stays as it is, for <c>resume</c>).</summary>
    public async Task<RolloutDocument> DriveAsync(RolloutDocument start, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(start);

        // Any wait (a publish, a retained read) ends when the connection drops, instead of running into MQTT timeouts.
        using var alive = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _connection.Lost);
        try
        {
            return await DriveCoreAsync(start, alive.Token);
        }
        catch (OperationCanceledException ex) when (_connection.Lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"lost the connection to the broker {_connection.Broker}; run 'edgectl rollout resume {Id}' to go on", ex);
        }
    }

    private async Task<RolloutDocument> DriveCoreAsync(RolloutDocument start, CancellationToken cancellationToken)
    {
        var topics = _connection.Topics;
        _model = start.Model;
        _connection.MessageReceived += OnMessage;
        try
        {
            await _connection.WatchAsync(topics.RolloutDriver(Id), cancellationToken);
            await _connection.PublishAsync(topics.RolloutDriver(Id), JsonSerializer.SerializeToUtf8Bytes(new { writer = Writer, since = _time.GetUtcNow() }, CoreJson.Options), retain: true, cancellationToken);
            await _connection.WatchAsync(topics.Rollout(Id), cancellationToken);
            await _connection.WatchAsync(topics.AllDevices("reported"), cancellationToken);
            var doc = start;
            if (doc.State == RolloutStates.Running)
            {
                await EnsureTargetedAsync(doc, cancellationToken);
            }

            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!_connection.IsConnected)
                {
                    // FleetConnection does not reconnect: stop, and let 'resume' (here or elsewhere) go on.
                    throw new IOException($"lost the connection to the broker {_connection.Broker}; run 'edgectl rollout resume {Id}' to go on");
                }

                if (_otherDriver is { } other)
                {
                    throw new IOException($"another edgectl ({other}) now drives rollout {Id}; this one stops");
                }

                doc = await ApplyExternalAsync(doc, cancellationToken);
                if (doc.State == RolloutStates.Aborted)
                {
                    if (RolloutGate.ToRestore(doc).Count > 0)
                    {
                        doc = await RollBackAsync(_connection, doc, Writer, _time, line => Report(doc, line), cancellationToken);
                    }

                    return doc;
                }

                if (doc.State == RolloutStates.Completed)
                {
                    return doc;
                }

                if (doc.State == RolloutStates.Paused)
                {
                    await _wake.WaitAsync(Tick, cancellationToken);
                    continue;
                }

                var observed = RolloutGate.Observe(doc, _reports, _time.GetUtcNow());
                if (!ReferenceEquals(observed, doc))
                {
                    foreach (var (id, device) in observed.Devices.Where(kv => kv.Value.Status != doc.Devices[kv.Key].Status))
                    {
                        Report(observed, device.Status == RolloutDeviceStatus.Succeeded ? $"{id}: {doc.Model} {doc.Version} Active" : $"{id}: failed ({device.Reason})");
                    }

                    doc = await PublishAsync(_connection, observed, Writer, _time.GetUtcNow(), cancellationToken);
                }

                var decision = RolloutGate.Decide(doc);
                switch (decision.Action)
                {
                    case GateAction.Advance:
                        doc = await AdvanceAsync(doc, cancellationToken);
                        continue;
                    case GateAction.Complete:
                        doc = await PublishAsync(_connection, doc with { State = RolloutStates.Completed, Reason = decision.Reason }, Writer, _time.GetUtcNow(), cancellationToken);
                        Report(doc, $"completed: {Summary(doc)}");
                        return doc;
                    case GateAction.Abort:
                        doc = await PublishAsync(_connection, doc with { State = RolloutStates.Aborted, Reason = decision.Reason }, Writer, _time.GetUtcNow(), cancellationToken);
                        Report(doc, $"aborting: {decision.Reason}");
                        continue;
                    default:
                        await _wake.WaitAsync(Tick, cancellationToken);
                        break;
                }
            }
        }
        finally
        {
            _connection.MessageReceived -= OnMessage;
            if (_connection.IsConnected && _otherDriver is null)
            {
                // Give the lease up (a clean disconnect would not fire the will).
                await _connection.PublishAsync(topics.RolloutDriver(Id), ReadOnlyMemory<byte>.Empty, retain: true, CancellationToken.None);
            }
        }
    }

    public static string Summary(RolloutDocument doc)
    {
        ArgumentNullException.ThrowIfNull(doc);
        var c = doc.Counts;
        return $"wave {doc.CurrentWave}/{doc.WaveSizes.Count}, {c.Succeeded} succeeded, {c.Failed} failed, {c.Targeted} deploying, {c.Pending} pending of {doc.Targets.Count}";
    }

    private static string? LeaseWriter(byte[]? payload)
    {
        if (payload is null || payload.Length == 0)
        {
            return null;
        }

        try
        {
            using var lease = JsonDocument.Parse(payload);
            return lease.RootElement.TryGetProperty("writer", out var w) && w.ValueKind == JsonValueKind.String ? w.GetString() : "unknown";
        }
        catch (JsonException)
        {
            return "unknown";
        }
    }

    private void OnMessage(string topic, byte[] payload)
    {
        var topics = _connection.Topics;
        if (topic == topics.Rollout(Id))
        {
            if (payload.Length > 0)
            {
                try
                {
                    var doc = RolloutDocument.Parse(payload, topic);
                    if (doc.Writer != Writer)
                    {
                        _external.Enqueue(doc);
                    }
                }
                catch (InvalidDataException)
                {
                    // Someone wrote garbage on the topic: our next publish replaces it.
                }
            }
        }
        else if (topic == topics.RolloutDriver(Id))
        {
            if (LeaseWriter(payload) is { } writer && writer != Writer)
            {
                _otherDriver = writer;
            }
        }
        else if (RetainedSnapshot.DeviceOf(topics.Prefix, topic, "reported") is { } device && _model is { } model)
        {
            // The model's entry only; a document without it (model removed) forgets what was known.
            if (DeviceReport.Read(payload, model, _time.GetUtcNow()) is { } report)
            {
                _reports[device] = report;
            }
            else
            {
                _reports.TryRemove(device, out _);
            }
        }
        else
        {
            return;
        }

        _wake.Release();
    }

    private async Task<RolloutDocument> ApplyExternalAsync(RolloutDocument doc, CancellationToken cancellationToken)
    {
        while (_external.TryDequeue(out var command))
        {
            if (doc.IsFinal || command.State == doc.State)
            {
                continue;
            }

            var now = _time.GetUtcNow();
            switch (command.State)
            {
                case RolloutStates.Paused when doc.State == RolloutStates.Running:
                    doc = await PublishAsync(_connection, doc with { State = RolloutStates.Paused }, Writer, now, cancellationToken);
                    Report(doc, $"paused by {command.Writer}");
                    break;
                case RolloutStates.Running when doc.State == RolloutStates.Paused:
                    doc = await PublishAsync(_connection, RolloutGate.Resume(doc, now), Writer, now, cancellationToken);
                    Report(doc, $"resumed by {command.Writer}");
                    break;
                case RolloutStates.Aborted:
                    doc = await PublishAsync(_connection, doc with { State = RolloutStates.Aborted, Reason = command.Reason ?? $"aborted by {command.Writer}", RollbackSucceeded = doc.RollbackSucceeded || command.RollbackSucceeded }, Writer, now, cancellationToken);
                    Report(doc, $"aborting: {doc.Reason}");
                    break;
                default:
                    break;
            }
        }

        return doc;
    }

    private async Task<RolloutDocument> AdvanceAsync(RolloutDocument doc, CancellationToken cancellationToken)
    {
        var ids = RolloutGate.NextWave(doc);
        var previous = new ConcurrentDictionary<string, JsonElement?>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (id, ct) =>
            previous[id] = await DesiredStateWriter.ReadAsync(_connection, id, RetainedWait, ct));

        // Persist the targets and what they had before, then write their desired states.
        doc = await PublishAsync(_connection, RolloutGate.TargetNextWave(doc, previous, _time.GetUtcNow()), Writer, _time.GetUtcNow(), cancellationToken);
        Report(doc, $"wave {doc.CurrentWave}/{doc.WaveSizes.Count}: {ids.Count} device(s) ({string.Join(", ", ids.Take(5))}{(ids.Count > 5 ? ", ..." : string.Empty)})");
        var entry = Entry(doc);
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (id, ct) =>
            await DesiredStateWriter.PublishAsync(_connection, id, DesiredStateWriter.WithEntry(previous[id], doc.Model, entry), ct));
        return doc;
    }

    /// <summary>After a restart: devices marked targeted whose desired state does not name the version yet (the process died in between) get it now.</summary>
    private async Task EnsureTargetedAsync(RolloutDocument doc, CancellationToken cancellationToken)
    {
        var entry = Entry(doc);
        var ids = doc.Targets.Where(id => doc.Devices[id].Status == RolloutDeviceStatus.Targeted).ToList();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (id, ct) =>
        {
            var current = await DesiredStateWriter.ReadAsync(_connection, id, RetainedWait, ct);
            if (DesiredStateWriter.EntryOf(current, doc.Model) is not { } e || !e.TryGetProperty("version", out var v) || v.GetString() != doc.Version)
            {
                await DesiredStateWriter.PublishAsync(_connection, id, DesiredStateWriter.WithEntry(current, doc.Model, entry), ct);
                Report(doc, $"{id}: desired state written again (the previous driver stopped before writing it)");
            }
        });
    }

    private static JsonElement Entry(RolloutDocument doc)
    {
        var entry = new JsonObject { ["name"] = doc.Model, ["version"] = doc.Version };
        if (doc.ProbationSeconds is { } seconds)
        {
            entry["probationSeconds"] = seconds;
        }

        return JsonSerializer.SerializeToElement(entry);
    }

    private void Report(RolloutDocument doc, string line) => Progress?.Invoke(doc, line);

    public void Dispose() => _wake.Dispose();
}
