using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeAgent.Core;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Drift;
using EdgeAgent.Core.Mqtt;
using EdgeAgent.Core.Telemetry;
using EdgeAgent.Fleet.FleetStatus;
using EdgeAgent.Fleet.Mqtt;
using EdgeAgent.Fleet.Rollouts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeAgent.Cli.Dashboard;

/// <summary>
/// What the dashboard knows about the fleet, kept in memory from the broker: the retained <c>status</c>,
/// <c>reported</c> and <c>health</c> of every device, bounded histories of heartbeats, drift records and events,
/// the rollouts with a timeline, and alerts. Subscribers get every change as a <see cref="DashboardEvent"/>.
/// Reconnects to the broker by itself when the connection drops.
/// </summary>
internal sealed class DashboardState : IAsyncDisposable
{
    public const int HealthCapacity = 720;
    public const int DriftCapacity = 720;
    public const int EventCapacity = 200;
    public const int TimelineCapacity = 500;
    public const int MaxAlerts = 500;

    /// <summary>How often online/stale is decided again from the heartbeat age.</summary>
    public static readonly TimeSpan ReclassifyEvery = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan MissingBaselineRetry = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ManifestWait = TimeSpan.FromSeconds(1);

    private readonly Func<CancellationToken, Task<FleetConnection>> _connect;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, DeviceEntry> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RolloutEntry> _rollouts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _drivers = new(StringComparer.Ordinal);
    private readonly List<DashboardAlert> _alerts = [];
    private readonly List<Action<DashboardEvent>> _subscribers = [];
    private readonly ConcurrentDictionary<string, (Task<DriftBaseline?> Baseline, DateTimeOffset At)> _baselines = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private FleetConnection? _connection;
    private Task _background = Task.CompletedTask;
    private long _alertNumber;
    private string _broker = string.Empty;
    private string _prefix = Topics.DefaultPrefix;

    public DashboardState(Func<CancellationToken, Task<FleetConnection>> connect, bool readOnly, TimeProvider? time = null, ILogger? logger = null)
    {
        _connect = connect ?? throw new ArgumentNullException(nameof(connect));
        ReadOnly = readOnly;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    public bool ReadOnly { get; }

    /// <summary>edgectl's version (<c>0.1.0</c>), without source revision.</summary>
    public static string Version { get; } = (typeof(DashboardState).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    /// <summary>The broker connection now; null while reconnecting.</summary>
    public FleetConnection? Connection => _connection is { IsConnected: true } c ? c : null;

    public DashboardInfo Info => new(_broker, _prefix, ReadOnly, Version, Connection is not null);

    /// <summary>Connects (an <see cref="IOException"/> when the broker cannot be reached), subscribes, and starts the reconnect and re-classify loops.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var connection = await _connect(cancellationToken);
        _broker = connection.Broker.ToString();
        _prefix = connection.Topics.Prefix;
        try
        {
            await SubscribeAsync(connection, cancellationToken);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        _connection = connection;
        _background = Task.WhenAll(Task.Run(() => KeepConnectedAsync(_stop.Token), CancellationToken.None), Task.Run(() => ReclassifyAsync(_stop.Token), CancellationToken.None));
    }

    /// <summary>
    /// Adds a subscriber and returns the snapshot it starts from, atomically: every change after the snapshot reaches
    /// <paramref name="sink"/>, none before. <paramref name="sink"/> is called under the state's lock: it must not block.
    /// </summary>
    public IDisposable Subscribe(Action<DashboardEvent> sink, out byte[] snapshot)
    {
        ArgumentNullException.ThrowIfNull(sink);
        lock (_lock)
        {
            snapshot = SnapshotLocked();
            _subscribers.Add(sink);
        }

        return new Unsubscriber(this, sink);
    }

    /// <summary><c>GET /api/snapshot</c>, serialized.</summary>
    public byte[] Snapshot()
    {
        lock (_lock)
        {
            return SnapshotLocked();
        }
    }

    /// <summary>The latest revision seen of a rollout; null when unknown.</summary>
    public RolloutDocument? Rollout(string id)
    {
        lock (_lock)
        {
            return _rollouts.TryGetValue(id, out var entry) ? entry.Doc : null;
        }
    }

    /// <summary>The retained driver lease of a rollout (its writer), as last seen; null when none.</summary>
    public string? DriverOf(string id)
    {
        lock (_lock)
        {
            return _drivers.GetValueOrDefault(id);
        }
    }

    /// <summary>A rollout as the API shows it: <paramref name="doc"/> (the latest known when null) with timeline and driver; null when unknown.</summary>
    public JsonObject? RolloutJson(string id, RolloutDocument? doc = null)
    {
        lock (_lock)
        {
            if (_rollouts.TryGetValue(id, out var entry))
            {
                return RolloutNode(entry, doc);
            }

            return doc is null ? null : RolloutNode(new RolloutEntry(doc), doc);
        }
    }

    /// <summary>A device with its histories and the drift baselines of its model versions (read from the retained manifests once); null when unknown.</summary>
    public async Task<DeviceDetail?> DetailAsync(string id, CancellationToken cancellationToken)
    {
        DeviceRow row;
        HealthPoint[] health;
        DriftWindow[] drift;
        JsonElement[] events;
        List<(string Model, string Version)> versions;
        lock (_lock)
        {
            if (!_devices.TryGetValue(id, out var entry))
            {
                return null;
            }

            row = RowLocked(entry);
            health = entry.HealthPoints.ToArray();
            drift = entry.Drift.ToArray();
            events = entry.Events.ToArray();
            versions = [.. row.Models.SelectMany(m => new[] { (m.Name, m.ActiveVersion), (m.Name, m.Version) })
                .Concat(row.Drift.Select(d => (d.Model, d.Version)))
                .Where(v => v.Item2 is not null)
                .Select(v => (v.Item1, v.Item2!))
                .Distinct()];
        }

        var found = await Task.WhenAll(versions.Select(async v => (Key: $"{v.Model}@{v.Version}", Baseline: await BaselineAsync(v.Model, v.Version, cancellationToken))));
        var baselines = new SortedDictionary<string, DriftBaseline>(StringComparer.Ordinal);
        foreach (var (key, baseline) in found)
        {
            if (baseline is not null)
            {
                baselines[key] = baseline;
            }
        }

        return new DeviceDetail(row, health, drift, events, baselines);
    }

    /// <summary>The drift baseline signed into the manifest retained for <paramref name="model"/> <paramref name="version"/>; null when there is none (asked again after 30 s).</summary>
    public async Task<DriftBaseline?> BaselineAsync(string model, string version, CancellationToken cancellationToken)
    {
        if (!ManifestVerifier.IsValidModelName(model) || !SemVersion.TryParse(version, out var semver) || semver.HasBuildMetadata)
        {
            return null;
        }

        var key = $"{model}@{version}";
        var now = _time.GetUtcNow();
        if (_baselines.TryGetValue(key, out var cached) && (!cached.Baseline.IsCompleted || (cached.Baseline.IsCompletedSuccessfully && (cached.Baseline.Result is not null || now - cached.At < MissingBaselineRetry))))
        {
            return await cached.Baseline.WaitAsync(cancellationToken);
        }

        if (Connection is not { } connection)
        {
            return null;
        }

        var fetch = _baselines.AddOrUpdate(key, _ => (FetchBaselineAsync(connection, model, version), now), (_, old) => old.Baseline.IsCompleted ? (FetchBaselineAsync(connection, model, version), now) : old);
        return await fetch.Baseline.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _background;
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        if (Interlocked.Exchange(ref _connection, null) is { } connection)
        {
            connection.MessageReceived -= OnMessage;
            await connection.DisposeAsync();
        }

        _stop.Dispose();
    }

    /// <summary>Takes one broker message (the MQTT callback; tests call it directly).</summary>
    internal void Handle(string topic, byte[] payload)
    {
        var devices = $"{_prefix}/devices/";
        var rollouts = $"{_prefix}/rollouts/";
        lock (_lock)
        {
            if (topic.StartsWith(devices, StringComparison.Ordinal))
            {
                var parts = topic[devices.Length..].Split('/');
                if (parts.Length == 2 && DeviceIds.IsValid(parts[0]))
                {
                    HandleDeviceLocked(parts[0], parts[1], payload);
                }
            }
            else if (topic.StartsWith(rollouts, StringComparison.Ordinal))
            {
                var parts = topic[rollouts.Length..].Split('/');
                if (parts.Length == 1 && DeviceIds.IsValid(parts[0]))
                {
                    HandleRolloutLocked(parts[0], payload, topic);
                }
                else if (parts.Length == 2 && parts[1] == "driver" && DeviceIds.IsValid(parts[0]))
                {
                    HandleDriverLocked(parts[0], payload);
                }
            }
        }
    }

    /// <summary>Decides online/stale again for every device and announces the ones whose state changed.</summary>
    internal void Reclassify()
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            foreach (var entry in _devices.Values)
            {
                double? age = entry.LastHeartbeat is { } at ? Math.Max(0, (now - at).TotalSeconds) : null;
                var state = FleetView.Classify(entry.Connection, age, entry.IntervalSeconds ?? FleetView.DefaultIntervalSeconds);
                if (state != entry.LastState)
                {
                    EmitDeviceLocked(entry);
                }
            }
        }
    }

    private async Task<DriftBaseline?> FetchBaselineAsync(FleetConnection connection, string model, string version)
    {
        try
        {
            var payload = await connection.ReadRetainedAsync(connection.Topics.Manifest(model, version), ManifestWait, _stop.Token);
            return payload is { Length: > 0 } ? UnverifiedManifest.Read(payload).Manifest.Drift : null;
        }
        catch (Exception ex) when (ex is BundleRejectedException or IOException or MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
        {
            DashboardLog.BaselineUnreadable(_logger, model, version, ex.Message);
            return null;
        }
    }

    private async Task SubscribeAsync(FleetConnection connection, CancellationToken cancellationToken)
    {
        var topics = connection.Topics;
        connection.MessageReceived += OnMessage;
        foreach (var filter in (string[])[
            topics.AllDevices("status"), topics.AllDevices("reported"), topics.AllDevices("health"), topics.AllDevices("drift"), topics.AllDevices("events"),
            topics.Rollouts(), $"{topics.Rollouts()}/driver"])
        {
            await connection.WatchAsync(filter, cancellationToken);
        }
    }

    private void OnMessage(string topic, byte[] payload)
    {
        try
        {
            Handle(topic, payload);
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException or InvalidOperationException or FormatException or KeyNotFoundException or ArgumentException)
        {
            DashboardLog.Unreadable(_logger, topic, ex.Message);
        }
    }

    private async Task KeepConnectedAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var connection = _connection!;
            using (var lost = CancellationTokenSource.CreateLinkedTokenSource(connection.Lost, stop))
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, lost.Token);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    // The connection dropped.
                }
            }

            if (stop.IsCancellationRequested)
            {
                return;
            }

            DashboardLog.ConnectionLost(_logger, _broker);
            connection.MessageReceived -= OnMessage;
            _connection = null;
            await connection.DisposeAsync();
            EmitInfo();
            var delay = TimeSpan.FromSeconds(1);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var fresh = await _connect(stop);
                    try
                    {
                        await SubscribeAsync(fresh, stop);
                    }
                    catch
                    {
                        fresh.MessageReceived -= OnMessage;
                        await fresh.DisposeAsync();
                        throw;
                    }

                    _connection = fresh;
                    DashboardLog.Reconnected(_logger, _broker);
                    EmitInfo();
                    break;
                }
                catch (Exception ex) when (ex is IOException or MQTTnet.Exceptions.MqttCommunicationException or ArgumentException)
                {
                    DashboardLog.ReconnectFailed(_logger, ex.Message);
                    await Task.Delay(delay, _time, stop);
                    delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 10));
                }
            }
        }
    }

    private async Task ReclassifyAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(ReclassifyEvery, _time);
        while (await timer.WaitForNextTickAsync(stop))
        {
            Reclassify();
        }
    }

    private void EmitInfo()
    {
        var data = DashboardJson.Bytes(Info);
        lock (_lock)
        {
            EmitLocked("info", data);
        }
    }

    private void HandleDeviceLocked(string id, string leaf, byte[] payload)
    {
        switch (leaf)
        {
            case "status":
                {
                    var entry = DeviceLocked(id);
                    if (payload.Length == 0)
                    {
                        entry.Status = null;
                        entry.HeldStatus = null;
                    }
                    else if (DeviceStatus.TryParse(payload) is { } status
                        && (status.Supersedes(entry.HeldStatus)
                            // A birth below the offline kept: the device lost its state directory and counts from 1 again
                            // (docs/mqtt-api.md "Using seq"); only a lower offline can be an old session's late will.
                            || (status.IsOnline && entry.HeldStatus is { IsOffline: true } held && status.Seq < held.Seq)))
                    {
                        entry.Status = payload;
                        entry.HeldStatus = status;
                    }
                    else
                    {
                        return;
                    }

                    EmitDeviceLocked(entry);
                    break;
                }

            case "reported":
                {
                    var entry = DeviceLocked(id);
                    entry.Reported = payload.Length == 0 ? null : payload;
                    if (entry.Reported is not null)
                    {
                        AlertsFromReportedLocked(id, payload);
                    }

                    EmitDeviceLocked(entry);
                    break;
                }

            case "health":
                HealthLocked(id, payload);
                break;
            case "drift":
                if (payload.Length > 0)
                {
                    DriftLocked(id, payload);
                }

                break;
            case "events":
                if (payload.Length > 0)
                {
                    EventsLocked(id, payload);
                }

                break;
        }
    }

    private void HealthLocked(string id, byte[] payload)
    {
        var entry = DeviceLocked(id);
        if (payload.Length == 0)
        {
            entry.Health = null;
            entry.LastHeartbeat = null;
            EmitDeviceLocked(entry);
            return;
        }

        using var doc = JsonDocument.Parse(payload);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("timestamp", out var ts) || !ts.TryGetDateTimeOffset(out var at))
        {
            return;
        }

        entry.Health = payload;
        entry.LastHeartbeat = at;
        entry.CpuPercent = Number(root, "cpuPercent");
        entry.RssBytes = Integer(root, "rssBytes");
        entry.OutboxDepth = root.TryGetProperty("outbox", out var outbox) && outbox.ValueKind == JsonValueKind.Object ? Integer(outbox, "depth") : null;
        if (root.TryGetProperty("drift", out var drift) && drift.ValueKind == JsonValueKind.Array)
        {
            foreach (var d in drift.EnumerateArray())
            {
                if (Text(d, "model") is { } model && Text(d, "state") is { } state)
                {
                    SetDriftLocked(entry, new DeviceDrift(model, Text(d, "version"), state), at);
                }
            }
        }

        double rate = 0;
        long requests = 0, errors = 0;
        double? p50 = null, p95 = null, p99 = null;
        if (root.TryGetProperty("models", out var models) && models.ValueKind == JsonValueKind.Array)
        {
            foreach (var m in models.EnumerateArray().Where(m => m.ValueKind == JsonValueKind.Object))
            {
                rate += Number(m, "ratePerSecond") ?? 0;
                requests += Integer(m, "requests") ?? 0;
                errors += Integer(m, "errors") ?? 0;
                if (m.TryGetProperty("latencyMs", out var latency) && latency.ValueKind == JsonValueKind.Object)
                {
                    p50 = Max(p50, Number(latency, "p50"));
                    p95 = Max(p95, Number(latency, "p95"));
                    p99 = Max(p99, Number(latency, "p99"));
                }
            }
        }

        if (entry.HealthPoints.Last?.T == at)
        {
            // The retained heartbeat again (a reconnect): already charted.
            EmitDeviceLocked(entry);
            return;
        }

        var point = new HealthPoint
        {
            T = at,
            InferenceRate = Math.Round(rate, 3),
            P50Ms = p50,
            P95Ms = p95,
            P99Ms = p99,
            Requests = requests,
            Errors = errors,
            CpuPercent = entry.CpuPercent,
            RssBytes = entry.RssBytes,
            OutboxDepth = entry.OutboxDepth,
        };
        entry.HealthPoints.Add(point);
        EmitLocked("health", DashboardJson.Bytes(new { device = id, point }));
        EmitDeviceLocked(entry);
    }

    private void DriftLocked(string id, byte[] payload)
    {
        var entry = DeviceLocked(id);
        using var doc = JsonDocument.Parse(payload);
        var changed = false;
        foreach (var record in OutboxPayload.Records(doc.RootElement))
        {
            if (record.ValueKind != JsonValueKind.Object || !entry.IsNew(record)
                || Text(record, "model") is not { } model
                || !record.TryGetProperty("windowEnd", out var end) || !end.TryGetDateTimeOffset(out var at))
            {
                continue;
            }

            var kind = Text(record, "kind") ?? "window";
            var window = new DriftWindow
            {
                T = at,
                Kind = kind,
                Model = model,
                Version = Text(record, "version"),
                State = Text(record, "state"),
                Count = Integer(record, "count") ?? 0,
                Features = Entries(record, "features"),
                Outputs = Entries(record, "outputs"),
            };
            entry.Drift.Add(window);
            EmitLocked("drift", DashboardJson.Bytes(new { device = id, window }));
            if (window.State is { } state && state != "insufficient")
            {
                SetDriftLocked(entry, new DeviceDrift(model, window.Version, state), at);
                changed = true;
            }

            if (kind == "alert")
            {
                DriftAlertLocked(id, window, record);
            }
        }

        if (changed)
        {
            EmitDeviceLocked(entry);
        }
    }

    private void DriftAlertLocked(string id, DriftWindow window, JsonElement record)
    {
        var index = _alerts.FindIndex(a => a.Active && a.Kind == "drift" && a.Device == id && a.Model == window.Model);
        if (window.State == "drift")
        {
            var drifted = window.Features.Concat(window.Outputs).Where(e => e.State == "drift").Select(e => e.Name).ToList();
            var seq = Integer(record, "seq") is { } s ? s.ToString(CultureInfo.InvariantCulture) : $"n{Interlocked.Increment(ref _alertNumber).ToString(CultureInfo.InvariantCulture)}";
            if (index >= 0)
            {
                // Raised again without a clear in between (a clear was lost): the old one is over.
                UpdateAlertLocked(index, _alerts[index] with { Active = false });
            }

            AddAlertLocked(new DashboardAlert
            {
                Id = $"drift:{id}:{window.Model}:{seq}",
                Kind = "drift",
                Severity = "warning",
                Device = id,
                Model = window.Model,
                Version = window.Version,
                At = window.T,
                Message = drifted.Count > 0 ? $"drift raised on {string.Join(", ", drifted)}" : "drift raised",
                Active = true,
            });
        }
        else if (window.State == "ok" && index >= 0)
        {
            UpdateAlertLocked(index, _alerts[index] with { Active = false });
        }
    }

    private void EventsLocked(string id, byte[] payload)
    {
        var entry = DeviceLocked(id);
        using var doc = JsonDocument.Parse(payload);
        foreach (var record in OutboxPayload.Records(doc.RootElement))
        {
            if (record.ValueKind != JsonValueKind.Object || !entry.IsNew(record))
            {
                continue;
            }

            var @event = record.Clone();
            entry.Events.Add(@event);
            EmitLocked("deployment", DashboardJson.Bytes(new { device = id, @event }));
            if (Text(record, "type") == "deployment" && Text(record, "state") is "Failed" or "RolledBack"
                && Text(record, "model") is { } model)
            {
                var at = record.TryGetProperty("timestamp", out var ts) && ts.TryGetDateTimeOffset(out var t) ? t : _time.GetUtcNow();
                DeploymentAlertLocked(id, model, Text(record, "version") ?? string.Empty, Text(record, "state")!, Text(record, "reason"), at);
            }
        }
    }

    private void AlertsFromReportedLocked(string id, byte[] payload)
    {
        using var doc = JsonDocument.Parse(payload);
        var failing = new HashSet<(string Model, string Version)>();
        if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("models", out var models) && models.ValueKind == JsonValueKind.Array)
        {
            foreach (var m in models.EnumerateArray().Where(m => m.ValueKind == JsonValueKind.Object))
            {
                if (Text(m, "name") is { } model && Text(m, "version") is { } version && Text(m, "state") is "Failed" or "RolledBack")
                {
                    failing.Add((model, version));
                    var at = m.TryGetProperty("updated", out var u) && u.TryGetDateTimeOffset(out var t) ? t : _time.GetUtcNow();
                    DeploymentAlertLocked(id, model, version, Text(m, "state")!, Text(m, "reason"), at);
                }
            }
        }

        for (var i = 0; i < _alerts.Count; i++)
        {
            var a = _alerts[i];
            if (a.Active && a.Kind == "deployment" && a.Device == id && !failing.Contains((a.Model!, a.Version!)))
            {
                UpdateAlertLocked(i, a with { Active = false });
            }
        }
    }

    private void DeploymentAlertLocked(string id, string model, string version, string state, string? reason, DateTimeOffset at)
    {
        if (_alerts.Exists(a => a.Active && a.Kind == "deployment" && a.Device == id && a.Model == model && a.Version == version))
        {
            return;
        }

        var n = Interlocked.Increment(ref _alertNumber).ToString(CultureInfo.InvariantCulture);
        AddAlertLocked(new DashboardAlert
        {
            Id = $"deployment:{id}:{model}:{version}:{n}",
            Kind = "deployment",
            Severity = "error",
            Device = id,
            Model = model,
            Version = version,
            At = at,
            Message = reason is null ? $"{model} {version} {state}" : $"{model} {version} {state}: {reason}",
            Active = true,
        });
    }

    private void AddAlertLocked(DashboardAlert alert)
    {
        _alerts.Insert(0, alert);
        if (_alerts.Count > MaxAlerts)
        {
            _alerts.RemoveAt(_alerts.Count - 1);
        }

        EmitLocked("alert", DashboardJson.Bytes(alert));
    }

    private void UpdateAlertLocked(int index, DashboardAlert alert)
    {
        _alerts[index] = alert;
        EmitLocked("alert", DashboardJson.Bytes(alert));
    }

    private void HandleRolloutLocked(string id, byte[] payload, string topic)
    {
        if (payload.Length == 0)
        {
            _rollouts.Remove(id);
            return;
        }

        var doc = RolloutDocument.Parse(payload, topic);
        if (_rollouts.TryGetValue(id, out var entry) && entry.Doc.Created == doc.Created)
        {
            if (doc.Revision <= entry.Doc.Revision)
            {
                return;
            }

            entry.Doc = doc;
        }
        else
        {
            // New, or the id was used again for a new rollout: a fresh timeline.
            _rollouts[id] = entry = new RolloutEntry(doc);
        }

        entry.Timeline.Add(new TimelinePoint(doc.Updated, doc.Revision, doc.State, doc.CurrentWave, doc.Counts));
        EmitLocked("rollout", DashboardJson.Bytes(RolloutNode(entry, null)));
    }

    private void HandleDriverLocked(string id, byte[] payload)
    {
        string? writer = null;
        if (payload.Length > 0)
        {
            using var doc = JsonDocument.Parse(payload);
            writer = doc.RootElement.ValueKind == JsonValueKind.Object ? Text(doc.RootElement, "writer") : null;
        }

        if (writer is null)
        {
            _drivers.Remove(id);
        }
        else
        {
            _drivers[id] = writer;
        }

        if (_rollouts.TryGetValue(id, out var entry))
        {
            EmitLocked("rollout", DashboardJson.Bytes(RolloutNode(entry, null)));
        }
    }

    private JsonObject RolloutNode(RolloutEntry entry, RolloutDocument? doc)
    {
        var node = JsonSerializer.SerializeToNode(doc ?? entry.Doc, DashboardJson.Options)!.AsObject();
        node["timeline"] = JsonSerializer.SerializeToNode(entry.Timeline.ToArray(), DashboardJson.Options);
        node["driver"] = _drivers.GetValueOrDefault(entry.Doc.Id);
        return node;
    }

    private byte[] SnapshotLocked() => DashboardJson.Bytes(new
    {
        info = Info,
        devices = _devices.Values.Select(RowLocked).ToList(),
        rollouts = _rollouts.Values.OrderByDescending(r => r.Doc.Created).ThenBy(r => r.Doc.Id, StringComparer.Ordinal).Select(r => RolloutNode(r, null)).ToList(),
        alerts = _alerts,
    });

    private DeviceEntry DeviceLocked(string id)
    {
        if (!_devices.TryGetValue(id, out var entry))
        {
            _devices[id] = entry = new DeviceEntry(id);
        }

        return entry;
    }

    private DeviceRow RowLocked(DeviceEntry entry)
    {
        var row = FleetView.Build(entry.Id, entry.Status, entry.Reported, entry.Health, _time.GetUtcNow());
        entry.Connection = row.Connection;
        entry.IntervalSeconds = row.HeartbeatIntervalSeconds;
        return DeviceRow.From(row, entry.LastHeartbeat, [.. entry.DriftStates.Values.Select(d => d.Drift)], entry.CpuPercent, entry.RssBytes, entry.OutboxDepth);
    }

    private void EmitDeviceLocked(DeviceEntry entry)
    {
        var row = RowLocked(entry);
        entry.LastState = row.State;
        EmitLocked("device", DashboardJson.Bytes(row));
    }

    private void EmitLocked(string name, byte[] data)
    {
        var e = new DashboardEvent(name, data);
        foreach (var sink in _subscribers)
        {
            sink(e);
        }
    }

    private static void SetDriftLocked(DeviceEntry entry, DeviceDrift drift, DateTimeOffset at)
    {
        if (!entry.DriftStates.TryGetValue(drift.Model, out var held) || held.At <= at)
        {
            entry.DriftStates[drift.Model] = (drift, at);
        }
    }

    private static List<DriftWindowEntry> Entries(JsonElement record, string name)
    {
        var list = new List<DriftWindowEntry>();
        if (record.TryGetProperty(name, out var entries) && entries.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in entries.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object))
            {
                List<double>? counts = null;
                if (e.TryGetProperty("counts", out var c) && c.ValueKind == JsonValueKind.Array)
                {
                    counts = [.. c.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0)];
                }

                list.Add(new DriftWindowEntry(Text(e, "name") ?? "?", Number(e, "psi"), Number(e, "js"), Number(e, "ks"), Text(e, "state"), counts));
            }
        }

        return list;
    }

    private static double? Max(double? a, double? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static double? Number(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static long? Integer(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;

    private void Unsubscribe(Action<DashboardEvent> sink)
    {
        lock (_lock)
        {
            _subscribers.Remove(sink);
        }
    }

    private sealed class Unsubscriber(DashboardState state, Action<DashboardEvent> sink) : IDisposable
    {
        public void Dispose() => state.Unsubscribe(sink);
    }

    private sealed class RolloutEntry(RolloutDocument doc)
    {
        public RolloutDocument Doc { get; set; } = doc;

        public BoundedRing<TimelinePoint> Timeline { get; } = new(TimelineCapacity);
    }

    private sealed class DeviceEntry(string id)
    {
        private const int RecentSeqs = 4096;
        private readonly HashSet<long> _seen = [];
        private readonly Queue<long> _order = new();

        public string Id { get; } = id;

        public byte[]? Status { get; set; }

        public DeviceStatus? HeldStatus { get; set; }

        public byte[]? Reported { get; set; }

        public byte[]? Health { get; set; }

        public DateTimeOffset? LastHeartbeat { get; set; }

        public double? CpuPercent { get; set; }

        public long? RssBytes { get; set; }

        public long? OutboxDepth { get; set; }

        /// <summary>From the last row built: what online/stale is decided from between documents.</summary>
        public string? Connection { get; set; }

        public double? IntervalSeconds { get; set; }

        public string? LastState { get; set; }

        public SortedDictionary<string, (DeviceDrift Drift, DateTimeOffset At)> DriftStates { get; } = new(StringComparer.Ordinal);

        public BoundedRing<HealthPoint> HealthPoints { get; } = new(HealthCapacity);

        public BoundedRing<DriftWindow> Drift { get; } = new(DriftCapacity);

        public BoundedRing<JsonElement> Events { get; } = new(EventCapacity);

        /// <summary>False for a record whose <c>seq</c> was seen lately (outbox delivery is at-least-once); records without one are always new.</summary>
        public bool IsNew(JsonElement record)
        {
            if (!record.TryGetProperty("seq", out var s) || s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out var seq))
            {
                return true;
            }

            if (!_seen.Add(seq))
            {
                return false;
            }

            _order.Enqueue(seq);
            if (_order.Count > RecentSeqs)
            {
                _seen.Remove(_order.Dequeue());
            }

            return true;
        }
    }
}
