using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using EdgeAgent.Agent;
using EdgeAgent.Agent.Drift;
using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Cli.Dashboard;
using EdgeAgent.Core.Desired;
using EdgeAgent.Core.Mqtt;
using EdgeAgent.Core.Telemetry;
using EdgeAgent.Fleet.Bundles;
using EdgeAgent.Fleet.Keys;
using EdgeAgent.Fleet.Mqtt;
using EdgeAgent.Fleet.Rollouts;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace EdgeAgent.Cli.Demo;

/// <summary>
/// <c>edgectl demo</c>: the whole loop on one machine with nothing installed. Embedded broker on a loopback port, a
/// small fleet of in-process agents (<c>demo-1..demo-N</c>, each with its own state folder and socket), a fresh signing
/// key, the sample model bundled, signed and published once, then rolled out with a real <see cref="RolloutDriver"/>
/// in waves (<c>1,50%,100%</c>, a probation per wave) that anyone can pause, resume or abort from outside; simulated
/// sensor traffic spread over the devices that serve the model, and a live view of what comes back over MQTT.
/// </summary>
internal sealed class DemoRunner
{
    public const string ModelName = "vibration";
    public const string ModelVersion = "1.0.0";
    public const string RolloutId = $"demo-{ModelName}-{ModelVersion}";
    public const string WavePlanSpec = "1,50%,100%";

    private readonly Settings _settings;
    private readonly Lock _gate = new();
    private readonly LatencyHistogram _latency = new();
    private readonly long[] _predicted = new long[3];
    private readonly List<string> _errors = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<DemoDevice> _devices = [];
    private readonly Dictionary<string, DemoDevice> _byId = new(StringComparer.Ordinal);
    private readonly string _rolloutTopic = new Topics(Topics.DefaultPrefix).Rollout(RolloutId);
    private readonly List<object> _driftAlerts = [];
    private readonly List<PauseView> _pauses = [];
    private readonly Dictionary<string, string> _externalWriters = new(StringComparer.Ordinal);
    private string _phase = "starting";
    private string _brokerUrl = "-";
    private string? _dashboardUrl;
    private string? _driverWriter;
    private RolloutDocument? _rollout;
    private string? _rolloutNote;
    private volatile bool _aborted;
    private volatile bool _interrupted;
    private long _inferences;
    private long _inferenceErrors;
    private long _agreements;
    private long _metricsDelivered;
    private long _inferencesInMetrics;
    private long _healthReports;
    private long _events;
    private long _bundleBytes;
    private int _bundleChunks;
    private long _publishedBytes;
    private double _trafficSeconds;
    private long _rows;
    private long _shiftedRows;
    private long _shiftedAgreements;
    private long _driftWindows;
    private string _driftState = "-";
    private (double From, double To)? _shift;
    private long _trafficStarted;
    private double? _readySeconds;
    private double? _firstServingSeconds;
    private double? _rolloutEndedSeconds;

    public DemoRunner(Settings settings) => _settings = settings;

    public sealed record Settings
    {
        public TimeSpan? Duration { get; init; }

        public bool Json { get; init; }

        public bool Keep { get; init; }

        /// <summary>Simulated requests per second over the whole fleet (8 readings each).</summary>
        public int RequestsPerSecond { get; init; } = 50;

        public int Devices { get; init; } = 3;

        /// <summary>Probation of each wave of the rollout (written into the devices' desired entries).</summary>
        public int ProbationSeconds { get; init; } = 3;

        /// <summary>The embedded broker's loopback port; 0 picks a free one.</summary>
        public int BrokerPort { get; init; }

        /// <summary>Written (JSON) once the broker, the agents and the rollout exist: how another process finds them.</summary>
        public string? ReadyFile { get; init; }

        public DashboardMode Dashboard { get; init; } = DashboardMode.Default;

        /// <summary>With <see cref="DashboardMode.Exact"/>: where the dashboard listens.</summary>
        public IPEndPoint? DashboardListen { get; init; }

        /// <summary>Open the dashboard in the desktop's browser when there is one.</summary>
        public bool OpenBrowser { get; init; } = true;
    }

    public enum DashboardMode
    {
        /// <summary>127.0.0.1:8080, or a free port when that one is taken.</summary>
        Default,

        /// <summary><see cref="Settings.DashboardListen"/>, failing when it cannot be bound.</summary>
        Exact,

        Off,
    }

    private sealed class PauseView
    {
        public required DateTimeOffset PausedAt { get; init; }

        public string? PausedBy { get; init; }

        public DateTimeOffset? ResumedAt { get; set; }

        public string? ResumedBy { get; set; }
    }

    /// <summary>Agent <c>Drift:WindowSeconds</c>: long enough that each device's window holds about 250 readings at the fleet's rate.</summary>
    private int DriftWindowSeconds => Math.Max(1, (int)Math.Ceiling(250.0 * _settings.Devices / (8.0 * _settings.RequestsPerSecond)));

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("edgeagent-demo-").FullName;
        // demo-1..demo-N in two lines of two gateway types, so the fleet has something to filter by.
        for (var i = 1; i <= _settings.Devices; i++)
        {
            var id = $"demo-{i}";
            var device = new DemoDevice(id, i % 2 == 1 ? "line-1" : "line-2", i % 2 == 1 ? "sensor-gateway-a" : "sensor-gateway-b", Path.Combine(work, "devices", id));
            _devices.Add(device);
            _byId[id] = device;
        }

        var collectors = new List<ErrorCollector>();
        var agents = new List<WebApplication>();
        try
        {
            EmbeddedBroker broker;
            try
            {
                broker = await EmbeddedBroker.StartAsync(_settings.BrokerPort);
            }
            catch (SocketException ex)
            {
                throw new IOException($"cannot start the demo broker on 127.0.0.1:{_settings.BrokerPort}: {ex.Message}", ex);
            }

            await using (broker)
            {
                _brokerUrl = broker.Url;
                var bundle = BuildBundle(work, out var publicKey);
                await using var dashboard = _settings.Dashboard == DashboardMode.Off
                    ? null
                    : await DemoDashboard.StartAsync(broker.Url, _settings.DashboardListen ?? new IPEndPoint(IPAddress.Loopback, 8080), fallBack: _settings.Dashboard == DashboardMode.Default, cancellationToken);
                if (dashboard is not null)
                {
                    _dashboardUrl = dashboard.Url.ToString();
                    var opened = _settings.OpenBrowser && !_settings.Json && DemoDashboard.TryOpenBrowser(dashboard.Url);
                    var line = $"dashboard: {_dashboardUrl}{(opened ? " (opened in your browser)" : string.Empty)}";
                    if (_settings.Json)
                    {
                        Console.Error.WriteLine(line);
                    }
                    else
                    {
                        Console.WriteLine(line);
                    }
                }

                // Watching before the agents start: every birth and report is seen as it is published.
                await using var observer = await FleetConnection.ConnectAsync(broker.Url, clientId: "edgectl-demo-observer", cancellationToken: cancellationToken);
                observer.MessageReceived += OnMessage;
                foreach (var leaf in new[] { "status", "reported", "health", "metrics", "events", "drift" })
                {
                    await observer.WatchAsync(observer.Topics.AllDevices(leaf), cancellationToken);
                }

                await observer.WatchAsync(observer.Topics.Rollout(RolloutId), cancellationToken);
                try
                {
                    _phase = "starting agents";
                    foreach (var device in _devices)
                    {
                        Directory.CreateDirectory(device.Home);
                        var collector = new ErrorCollector(Path.Combine(device.Home, "agent.log"));
                        collectors.Add(collector);
                        var agent = AgentHost.Build(AgentConfiguration(device, broker.Url, publicKey), logging =>
                        {
                            logging.ClearProviders();
                            logging.AddProvider(collector);
                        });
                        agents.Add(agent);
                        await agent.StartAsync(cancellationToken);
                        device.Client = new AgentApiClient(device.Socket);
                    }

                    var run = DriveAsync(agents, broker.Url, bundle, work, cancellationToken);
                    await ShowAsync(run);
                }
                finally
                {
                    // The summary shows the fleet as it ran, not the offline statuses of the agents stopping now.
                    observer.MessageReceived -= OnMessage;
                    foreach (var agent in agents)
                    {
                        await agent.StopAsync(CancellationToken.None);
                        await agent.DisposeAsync();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C before the traffic started: report what there is.
            _interrupted = true;
        }
        finally
        {
            foreach (var device in _devices)
            {
                device.Dispose();
            }

            foreach (var collector in collectors)
            {
                collector.Dispose();
                foreach (var error in collector.Errors)
                {
                    AddError($"agent: {error}");
                }
            }

            if (_settings.Keep)
            {
                Console.Error.WriteLine($"demo files kept in {work}");
            }
            else
            {
                TryDelete(work);
            }
        }

        return Report();
    }

    private IConfiguration AgentConfiguration(DemoDevice device, string brokerUrl, string publicKey) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agent:DeviceId"] = device.Id,
            ["Agent:DeviceType"] = device.DeviceType,
            ["Agent:Groups:0"] = device.Group,
            ["Agent:StateDirectory"] = Path.Combine(device.Home, "state"),
            ["Agent:ApiSocket"] = device.Socket,
            ["Agent:FetchTimeoutSeconds"] = "20",
            ["Agent:ProbationSeconds"] = "0",
            ["Mqtt:Url"] = brokerUrl,
            ["Trust:PublicKeys:0"] = publicKey,
            ["Telemetry:WindowSeconds"] = "2",
            ["Telemetry:HealthIntervalSeconds"] = "2",
            ["Drift:WindowSeconds"] = DriftWindowSeconds.ToString(CultureInfo.InvariantCulture),
            ["Drift:MinSamples"] = "100",
            ["Capture:Enabled"] = "true",
        }).Build();

    private string BuildBundle(string work, out string publicKey)
    {
        _phase = "signing bundle";
        var keys = SigningKeys.Generate(Path.Combine(work, "keys"), "release");
        publicKey = keys.PublicKeyPath;
        var modelPath = Path.Combine(work, "vibration.onnx");
        using (var resource = typeof(DemoRunner).Assembly.GetManifestResourceStream("samples.vibration.onnx")
            ?? throw new InvalidDataException("the sample model is missing from edgectl (build problem)"))
        using (var file = File.Create(modelPath))
        {
            resource.CopyTo(file);
        }

        // The drift baseline: 4,000 readings of the healthy sensor, as a training set would hold them.
        var baseline = SensorSimulator.Baseline(rows: 4000, seed: 4000);
        using var key = SigningKeys.LoadPrivate(keys.PrivateKeyPath);
        var result = BundleBuilder.Create(new BundleBuilder.Request
        {
            ModelPath = modelPath,
            Name = ModelName,
            Version = ModelVersion,
            Keys = [key],
            Drift = baseline,
            OutPath = Path.Combine(work, $"{ModelName}-{ModelVersion}.edgebundle"),
        });
        _bundleBytes = result.Manifest.TotalLength;
        _bundleChunks = result.Manifest.Files.Sum(f => f.Chunks.Count);
        return result.Path;
    }

    private async Task DriveAsync(IReadOnlyList<WebApplication> agents, string brokerUrl, string bundlePath, string work, CancellationToken cancellationToken)
    {
        await using (var publisher = await FleetConnection.ConnectAsync(brokerUrl, clientId: "edgectl-demo-operator", cancellationToken: cancellationToken))
        {
            _phase = "publishing bundle";
            var progress = new Progress<BundlePublisher.Progress>(p => Interlocked.Exchange(ref _publishedBytes, p.BytesSent));
            await BundlePublisher.PublishAsync(publisher, bundlePath, null, progress, cancellationToken);
            Interlocked.Exchange(ref _publishedBytes, _bundleBytes);

            // A fresh fleet with nothing desired yet: an empty retained desired document per device (the rollout keeps
            // it as what to restore on abort, and finds it at once instead of waiting for a retained message).
            foreach (var device in _devices)
            {
                await publisher.PublishAsync(publisher.Topics.DeviceDesired(device.Id), DesiredState.Empty.ToJson(), retain: true, cancellationToken);
            }
        }

        // The rollout, driven here as 'edgectl rollout start' would; its lease's will clears it if this process dies.
        var prefix = Topics.DefaultPrefix;
        await using var connection = await FleetConnection.ConnectWithWillAsync(brokerUrl, prefix, null, null, new Topics(prefix).RolloutDriver(RolloutId), [], null, cancellationToken);
        using var driver = new RolloutDriver(connection, RolloutId, RolloutDriver.NewWriter());
        _driverWriter = driver.Writer;
        driver.Progress += (_, line) => Note(line);
        _phase = "rolling out";
        var created = await driver.CreateAsync(
            new RolloutRequest
            {
                Id = RolloutId,
                Model = ModelName,
                Version = ModelVersion,
                Targets = [.. _devices.Select(d => d.Id)],
                Waves = WavePlan.Parse(WavePlanSpec),
                Probation = TimeSpan.FromSeconds(_settings.ProbationSeconds),
                WaveTimeout = TimeSpan.FromSeconds(_settings.ProbationSeconds + 120),
            },
            cancellationToken);
        OnRollout(created);
        WriteReadyFile(work);
        _readySeconds = _clock.Elapsed.TotalSeconds;

        using var stopDriving = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var rollout = DriveRolloutAsync(driver, created, stopDriving.Token);
        try
        {
            await TrafficAsync(rollout, cancellationToken);
        }
        finally
        {
            // Ctrl-C stops the driver too (the rollout stays as it is on the broker, which goes away with the demo); an
            // abort is left to finish writing the devices back.
            if (!rollout.IsCompleted && !_aborted)
            {
                await stopDriving.CancelAsync();
            }

            await rollout;
        }

        _phase = "flushing metrics";
        foreach (var agent in agents)
        {
            agent.Services.GetRequiredService<MetricsWindowService>().Flush();
            agent.Services.GetRequiredService<DriftMonitor>().CloseWindows();
        }

        var expected = Interlocked.Read(ref _inferences);
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await WaitUntilAsync(() => Interlocked.Read(ref _inferencesInMetrics) >= expected && Interlocked.Read(ref _healthReports) > 0, TimeSpan.FromSeconds(15), grace.Token);
        _phase = "done";
    }

    private async Task DriveRolloutAsync(RolloutDriver driver, RolloutDocument start, CancellationToken cancellationToken)
    {
        try
        {
            var end = await driver.DriveAsync(start, cancellationToken);
            OnRollout(end);
            _rolloutEndedSeconds = _clock.Elapsed.TotalSeconds;
            if (end.State == RolloutStates.Aborted)
            {
                _aborted = true;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C.
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or ArgumentException or MQTTnet.Exceptions.MqttCommunicationException)
        {
            AddError($"rollout {RolloutId}: {ex.Message}");
        }
    }

    /// <summary>
    /// Simulated sensor requests, round-robin over the devices that serve the model, from the first one serving until
    /// <c>--duration</c> has passed and the rollout has ended (a paused rollout keeps the demo going), Ctrl-C, or an abort.
    /// </summary>
    private async Task TrafficAsync(Task rollout, CancellationToken cancellationToken)
    {
        try
        {
            while (!Serving().Any() && !rollout.IsCompleted)
            {
                await Task.Delay(50, cancellationToken);
            }

            if (!Serving().Any())
            {
                return;
            }

            _phase = "serving traffic";
            var simulator = new SensorSimulator(seed: 20261126);
            var started = Stopwatch.GetTimestamp();
            Interlocked.Exchange(ref _trafficStarted, started);
            _firstServingSeconds = _clock.Elapsed.TotalSeconds;

            // A loosened sensor mounting for a while: from 25% to 55% of the run, or 20-35 s of every minute until Ctrl-C.
            if (_settings.Duration is { } total)
            {
                _shift = (total.TotalSeconds * 0.25, total.TotalSeconds * 0.55);
            }

            var duration = _settings.Duration?.TotalSeconds ?? double.PositiveInfinity;
            var next = 0;
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / _settings.RequestsPerSecond));
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var t = Stopwatch.GetElapsedTime(started).TotalSeconds;
                if (_aborted || (t >= duration && rollout.IsCompleted))
                {
                    break;
                }

                var serving = Serving().ToList();
                if (serving.Count == 0)
                {
                    continue;
                }

                var device = serving[next++ % serving.Count];
                device.ServingFromSeconds ??= Math.Round(t, 1);
                var shifted = _shift is { } s ? t >= s.From && t < s.To : t % 60 is >= 20 and < 35;
                await InferOnceAsync(device, simulator, shifted, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C: finish the loop and report.
            _interrupted = true;
        }

        if (Interlocked.Read(ref _trafficStarted) != 0)
        {
            _trafficSeconds = Stopwatch.GetElapsedTime(Interlocked.Read(ref _trafficStarted)).TotalSeconds;
        }
    }

    private IEnumerable<DemoDevice> Serving()
    {
        lock (_gate)
        {
            return [.. _devices.Where(d => d.Serves(ModelVersion))];
        }
    }

    private async Task InferOnceAsync(DemoDevice device, SensorSimulator simulator, bool shifted, CancellationToken cancellationToken)
    {
        // Each request carries a burst of readings, as a sensor gateway would send them.
        var classes = new int[8];
        var body = simulator.NextRequest(shifted, classes);
        var t0 = Stopwatch.GetTimestamp();
        int status;
        string response;
        try
        {
            (status, response) = await device.Client!.SendAsync(HttpMethod.Post, $"/v2/models/{ModelName}/infer", body, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            Interlocked.Increment(ref _inferenceErrors);
            Interlocked.Increment(ref device.InferenceErrors);
            AddError($"inference on {device.Id} failed: {ex.Message}");
            return;
        }

        var micros = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        _latency.Record(micros);
        device.Latency.Record(micros);
        if (status != 200)
        {
            Interlocked.Increment(ref _inferenceErrors);
            Interlocked.Increment(ref device.InferenceErrors);
            if (!_aborted)
            {
                AddError($"inference on {device.Id} answered {status}: {AgentApiClient.ErrorText(response)}");
            }

            return;
        }

        Interlocked.Increment(ref _inferences);
        Interlocked.Increment(ref device.Inferences);
        using var doc = JsonDocument.Parse(response);
        foreach (var output in doc.RootElement.GetProperty("outputs").EnumerateArray())
        {
            if (output.GetProperty("name").GetString() != "label")
            {
                continue;
            }

            var r = 0;
            foreach (var value in output.GetProperty("data").EnumerateArray())
            {
                var label = value.GetInt32();
                if (label is >= 0 and < 3)
                {
                    Interlocked.Increment(ref _predicted[label]);
                }

                if (shifted)
                {
                    Interlocked.Increment(ref _shiftedRows);
                    if (label == classes[r])
                    {
                        Interlocked.Increment(ref _shiftedAgreements);
                    }
                }
                else
                {
                    Interlocked.Increment(ref _rows);
                    if (label == classes[r])
                    {
                        Interlocked.Increment(ref _agreements);
                    }
                }

                r++;
            }
        }
    }

    private void WriteReadyFile(string work)
    {
        if (_settings.ReadyFile is not { } path)
        {
            return;
        }

        var ready = new
        {
            broker = _brokerUrl,
            prefix = Topics.DefaultPrefix,
            dashboard = _dashboardUrl,
            rollout = RolloutId,
            model = ModelName,
            version = ModelVersion,
            devices = _devices.Select(d => new { id = d.Id, group = d.Group, deviceType = d.DeviceType, socket = d.Socket }),
            probationSeconds = _settings.ProbationSeconds,
            pid = Environment.ProcessId,
            workDirectory = work,
        };

        // Whole or not at all: a reader polling for the file never sees half of it.
        var full = Path.GetFullPath(path);
        var temp = full + ".tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(ready, Core.CoreJson.Options));
        File.Move(temp, full, overwrite: true);
    }

    private void OnMessage(string topic, byte[] payload)
    {
        try
        {
            if (topic == _rolloutTopic)
            {
                if (payload.Length > 0)
                {
                    OnRollout(RolloutDocument.Parse(payload, topic));
                }

                return;
            }

            var parts = topic.Split('/');
            if (parts.Length < 2 || !_byId.TryGetValue(parts[^2], out var device))
            {
                return;
            }

            using var doc = JsonDocument.Parse(payload);
            var root = doc.RootElement;
            switch (parts[^1])
            {
                case "metrics":
                    // One record, or a batch {"records":[...]} after the outbox held several; a record sent again
                    // (at-least-once delivery) is recognised by its seq and counted once.
                    foreach (var record in OutboxPayload.Records(root))
                    {
                        if (!IsNew(device, record))
                        {
                            continue;
                        }

                        var count = record.GetProperty("count").GetInt64();
                        Interlocked.Increment(ref _metricsDelivered);
                        Interlocked.Add(ref _inferencesInMetrics, count);
                        Interlocked.Increment(ref device.MetricsDelivered);
                        Interlocked.Add(ref device.InferencesInMetrics, count);
                    }

                    break;
                case "health":
                    Interlocked.Increment(ref _healthReports);
                    Interlocked.Increment(ref device.HealthReports);
                    lock (_gate)
                    {
                        device.LastRssMb = root.GetProperty("rssBytes").GetInt64() / 1048576.0;
                        device.LastCpu = root.GetProperty("cpuPercent").GetDouble();
                        device.OutboxDepth = root.GetProperty("outbox").GetProperty("depth").GetInt64();
                    }

                    break;
                case "status":
                    lock (_gate)
                    {
                        device.Status = root.GetProperty("state").GetString() ?? "-";
                    }

                    break;
                case "events":
                    var fresh = OutboxPayload.Records(root).Count(r => IsNew(device, r));
                    Interlocked.Add(ref _events, fresh);
                    Interlocked.Add(ref device.Events, fresh);
                    break;
                case "drift":
                    foreach (var record in root.ValueKind == JsonValueKind.Array ? [.. root.EnumerateArray()] : root.TryGetProperty("records", out var batch) ? [.. batch.EnumerateArray()] : new[] { root })
                    {
                        OnDrift(device, record);
                    }

                    break;
                case "reported":
                    foreach (var model in root.GetProperty("models").EnumerateArray())
                    {
                        if (model.GetProperty("name").GetString() == ModelName)
                        {
                            lock (_gate)
                            {
                                device.Reason = model.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
                                device.ActiveVersion = model.TryGetProperty("activeVersion", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                                device.ModelState = model.GetProperty("state").GetString() ?? "-";
                            }
                        }
                    }

                    break;
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or InvalidDataException)
        {
            AddError($"unreadable message on {topic}: {ex.Message}");
        }
    }

    /// <summary>True the first time a device's record <c>seq</c> is seen (the sequence runs across metrics and events).</summary>
    private static bool IsNew(DemoDevice device, JsonElement record)
    {
        lock (device.Seen)
        {
            return device.Seen.Add(OutboxPayload.Seq(record));
        }
    }

    private void OnDrift(DemoDevice device, JsonElement record)
    {
        var state = record.GetProperty("state").GetString() ?? "-";
        if (record.GetProperty("kind").GetString() == "alert")
        {
            var drifted = record.GetProperty("features").EnumerateArray()
                .Where(f => f.GetProperty("state").GetString() == "drift")
                .Select(f => f.GetProperty("name").GetString())
                .ToList();
            var started = Interlocked.Read(ref _trafficStarted);
            lock (_gate)
            {
                _driftAlerts.Add(new
                {
                    device = device.Id,
                    atSeconds = started == 0 ? 0 : Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 1),
                    state,
                    previousState = record.GetProperty("previousState").GetString(),
                    seq = record.GetProperty("seq").GetInt64(),
                    drifted,
                });
                device.DriftState = state;
                device.DriftAlerts++;
                _driftState = FleetDriftState();
            }
        }
        else
        {
            Interlocked.Increment(ref _driftWindows);
            Interlocked.Increment(ref device.DriftWindows);
            if (state != "insufficient")
            {
                lock (_gate)
                {
                    device.DriftState = state;
                    _driftState = FleetDriftState();
                }
            }
        }
    }

    /// <summary>The fleet's drift state: <c>drift</c> when any device is in drift, else <c>ok</c> when any is judged.</summary>
    private string FleetDriftState() =>
        _devices.Any(d => d.DriftState == "drift") ? "drift" : _devices.Any(d => d.DriftState == "ok") ? "ok" : _devices.Select(d => d.DriftState).FirstOrDefault(s => s != "-") ?? "-";

    /// <summary>Every revision of the rollout seen on the broker (and the driver's last): the live view, the pauses.</summary>
    private void OnRollout(RolloutDocument doc)
    {
        lock (_gate)
        {
            if (_rollout is { } known && known.Revision > doc.Revision && doc.Writer == known.Writer)
            {
                return;
            }

            if (doc.Writer != _driverWriter)
            {
                // An operator's command (edgectl rollout pause/resume/abort, the dashboard): who asked, for the pause log.
                _externalWriters[doc.State] = doc.Writer ?? "unknown";
            }
            else
            {
                // The driver's own revisions are the ones it acts on: its state changes are when a pause took effect.
                var before = _pauses.Count > 0 && _pauses[^1].ResumedAt is null ? RolloutStates.Paused : RolloutStates.Running;
                if (doc.State == RolloutStates.Paused && before == RolloutStates.Running)
                {
                    _pauses.Add(new PauseView { PausedAt = doc.Updated, PausedBy = _externalWriters.GetValueOrDefault(RolloutStates.Paused) });
                }
                else if (doc.State == RolloutStates.Running && before == RolloutStates.Paused)
                {
                    _pauses[^1].ResumedAt = doc.Updated;
                    _pauses[^1].ResumedBy = _externalWriters.GetValueOrDefault(doc.State);
                }
            }

            _rollout = doc;
            if (doc.State == RolloutStates.Aborted)
            {
                _aborted = true;
            }
        }
    }

    private void Note(string line)
    {
        lock (_gate)
        {
            _rolloutNote = line;
        }

        if (!_settings.Json && Console.IsOutputRedirected)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,5:0.0}s] rollout {RolloutId}: {line}"));
        }
    }

    private async Task ShowAsync(Task run)
    {
        if (_settings.Json)
        {
            await run;
            return;
        }

        if (Console.IsOutputRedirected)
        {
            Console.WriteLine($"demo: broker {_brokerUrl}, {_devices.Count} device(s), rollout {RolloutId} (edgectl rollout status {RolloutId} --broker {_brokerUrl})");
            while (!run.IsCompleted)
            {
                await Task.WhenAny(run, Task.Delay(2000));
                Console.WriteLine(OneLine());
            }

            await run;
            return;
        }

        await AnsiConsole.Live(Render()).AutoClear(false).StartAsync(async ctx =>
        {
            while (!run.IsCompleted)
            {
                ctx.UpdateTarget(Render());
                await Task.WhenAny(run, Task.Delay(250));
            }

            ctx.UpdateTarget(Render());
            await run;
        });
    }

    private bool Paused
    {
        get
        {
            lock (_gate)
            {
                return _rollout?.State == RolloutStates.Paused;
            }
        }
    }

    private string PausedText => $"rollout paused by operator — resume with edgectl rollout resume {RolloutId} --broker {_brokerUrl} or the dashboard";

    private string OneLine()
    {
        int active;
        string rollout;
        lock (_gate)
        {
            active = _devices.Count(d => d.ModelState == "Active" && d.ActiveVersion == ModelVersion);
            rollout = _rollout is { } r ? $"rollout {r.State} wave {r.CurrentWave}/{r.WaveSizes.Count}" : "rollout -";
        }

        return string.Create(
            CultureInfo.InvariantCulture,
            $"[{_clock.Elapsed.TotalSeconds,5:0.0}s] {(Paused ? PausedText : _phase)}: {rollout}, {active}/{_devices.Count} devices Active, {Interlocked.Read(ref _inferences)} inferences, p95 {_latency.Quantile(0.95) / 1000:0.00} ms, {Interlocked.Read(ref _metricsDelivered)} metrics records, {Interlocked.Read(ref _healthReports)} health reports");
    }

    private Rows Render()
    {
        var elapsed = _clock.Elapsed.TotalSeconds;
        var inferences = Interlocked.Read(ref _inferences);
        var phase = Paused ? "rollout paused" : _phase;
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]EdgeAgent demo[/] — {Markup.Escape(phase)} ({elapsed:0}s{(_phase == "done" ? string.Empty : _settings.Duration is { } limit ? $"; {limit.TotalSeconds:0}s of traffic once a device serves, and until the rollout ends" : "; Ctrl-C to stop")})")
            .AddColumn("what").AddColumn("now");
        table.AddRow("broker", $"embedded MQTTnet at {Markup.Escape(_brokerUrl)}");
        table.AddRow("bundle", $"{ModelName} {ModelVersion}: {Interlocked.Read(ref _publishedBytes)}/{_bundleBytes} bytes published in {_bundleChunks} signed chunk(s)");
        table.AddRow("rollout", RolloutMarkup());
        table.AddRow("inference", string.Create(CultureInfo.InvariantCulture, $"{inferences} ok, {Interlocked.Read(ref _inferenceErrors)} failed, p50 {_latency.Quantile(0.5) / 1000:0.00} ms, p95 {_latency.Quantile(0.95) / 1000:0.00} ms (client side, over the unix sockets of the serving devices)"));
        var rows = Interlocked.Read(ref _rows);
        table.AddRow("predictions", $"normal {Interlocked.Read(ref _predicted[0])}, warning {Interlocked.Read(ref _predicted[1])}, fault {Interlocked.Read(ref _predicted[2])} — agrees with the simulated state {(rows == 0 ? 0 : 100.0 * Interlocked.Read(ref _agreements) / rows):0.0}% (healthy sensor)");
        int alerts;
        lock (_gate)
        {
            alerts = _driftAlerts.Count;
        }

        var driftColour = _driftState switch { "ok" => "green", "drift" => "red", _ => "yellow" };
        table.AddRow("drift", $"[{driftColour}]{Markup.Escape(_driftState)}[/], {Interlocked.Read(ref _driftWindows)} window(s) judged, {alerts} alert(s){(_shift is { } s ? string.Create(CultureInfo.InvariantCulture, $"; the sensor mountings loosen at {s.From:0.#} s and are fixed at {s.To:0.#} s of traffic") : "; the sensor mountings loosen 20-35 s into every minute")}");
        table.AddRow("metrics", $"{Interlocked.Read(ref _metricsDelivered)} window record(s) on the broker, {Interlocked.Read(ref _inferencesInMetrics)} inferences counted");
        table.AddRow("health", $"{Interlocked.Read(ref _healthReports)} heartbeat(s), {Interlocked.Read(ref _events)} deployment event(s)");

        var fleet = new Table().Border(TableBorder.Rounded).Title("[bold]devices[/]")
            .AddColumns("device", "group", "status", ModelName, "requests", "p95 ms", "drift", "CPU");
        lock (_gate)
        {
            foreach (var d in _devices)
            {
                var stateColour = d.ModelState switch { "Active" => "green", "Failed" or "RolledBack" => "red", "-" => "grey", _ => "yellow" };
                var deviceDrift = d.DriftState switch { "ok" => "green", "drift" => "red", _ => "grey" };
                fleet.AddRow(
                    Markup.Escape(d.Id),
                    Markup.Escape(d.Group),
                    $"[{(d.Status == "online" ? "green" : "yellow")}]{Markup.Escape(d.Status)}[/]",
                    $"[{stateColour}]{Markup.Escape(d.ModelState)}[/] {Markup.Escape(d.ActiveVersion ?? string.Empty)}{(d.Reason is null ? string.Empty : " " + Markup.Escape(d.Reason))}",
                    string.Create(CultureInfo.InvariantCulture, $"{Interlocked.Read(ref d.Inferences)}{(Interlocked.Read(ref d.InferenceErrors) > 0 ? $" ({Interlocked.Read(ref d.InferenceErrors)} failed)" : string.Empty)}"),
                    d.Latency.Count == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{d.Latency.Quantile(0.95) / 1000:0.00}"),
                    $"[{deviceDrift}]{Markup.Escape(d.DriftState)}[/]{(d.DriftAlerts > 0 ? $" ({d.DriftAlerts} alerts)" : string.Empty)}",
                    string.Create(CultureInfo.InvariantCulture, $"{d.LastCpu:0}%"));
            }
        }

        return new Rows(table, fleet);
    }

    private string RolloutMarkup()
    {
        lock (_gate)
        {
            if (_rollout is not { } r)
            {
                return $"{RolloutId}: not started";
            }

            var colour = r.State switch { RolloutStates.Completed => "green", RolloutStates.Aborted => "red", RolloutStates.Paused => "yellow", _ => "blue" };
            var c = r.Counts;
            var text = $"{Markup.Escape(RolloutId)} [{colour}]{r.State}[/], wave {r.CurrentWave}/{r.WaveSizes.Count} (waves {Markup.Escape(string.Join(",", r.Waves))} = {string.Join(" → ", r.WaveSizes)} device(s), probation {r.ProbationSeconds} s each): {c.Succeeded} succeeded, {c.Targeted} deploying, {c.Failed} failed, {c.Pending} pending";
            if (r.State == RolloutStates.Paused)
            {
                text += $"\n[yellow]{Markup.Escape(PausedText)}[/]";
            }
            else if (r.Reason is { } reason)
            {
                text += $"\n{Markup.Escape(reason)}";
            }
            else if (_rolloutNote is { } note)
            {
                text += $"\n[grey]{Markup.Escape(note)}[/]";
            }

            return text;
        }
    }

    private int Report()
    {
        var inferences = Interlocked.Read(ref _inferences);
        List<string> errors;
        RolloutDocument? rollout;
        List<PauseView> pauses;
        lock (_gate)
        {
            errors = [.. _errors];
            rollout = _rollout;
            pauses = [.. _pauses];
        }

        // One device stands for the fleet in the fields of the single-device demo: the first not Active, else demo-1.
        var shown = _devices.FirstOrDefault(d => d.ModelState != "Active") ?? _devices[0];
        var active = _devices.Count(d => d.ModelState == "Active" && d.ActiveVersion == ModelVersion);
        var aborted = rollout?.State == RolloutStates.Aborted;
        var completed = rollout?.State == RolloutStates.Completed;
        if (inferences > 0 && Interlocked.Read(ref _metricsDelivered) == 0)
        {
            errors.Add("no metrics record reached the broker");
        }

        if (completed && active < _devices.Count)
        {
            errors.Add($"the rollout completed but {active}/{_devices.Count} devices report {ModelName} {ModelVersion} Active");
        }

        if (rollout is null)
        {
            errors.Add($"rollout {RolloutId} was not started");
        }
        else if (!completed && !aborted && !_interrupted)
        {
            errors.Add($"rollout {RolloutId} did not end ({rollout.State}, {RolloutDriver.Summary(rollout)})");
        }
        else if (_interrupted && rollout.Counts.Failed > 0)
        {
            errors.Add($"rollout {RolloutId}: {rollout.Counts.Failed} device(s) failed");
        }

        var ok = !aborted && inferences > 0 && Interlocked.Read(ref _metricsDelivered) > 0 && Interlocked.Read(ref _healthReports) > 0 && errors.Count == 0;
        var summary = new
        {
            ok,
            stopped = aborted ? "rollout-aborted" : _interrupted ? "ctrl-c" : "duration",
            dashboard = _dashboardUrl,
            modelState = shown.ModelState,
            modelVersion = shown.ActiveVersion,
            devicesActive = active,
            inferences,
            inferenceErrors = Interlocked.Read(ref _inferenceErrors),
            metricsDelivered = Interlocked.Read(ref _metricsDelivered),
            inferencesInMetrics = Interlocked.Read(ref _inferencesInMetrics),
            healthReports = Interlocked.Read(ref _healthReports),
            events = Interlocked.Read(ref _events),
            predictions = new { normal = _predicted[0], warning = _predicted[1], fault = _predicted[2] },
            agreement = Interlocked.Read(ref _rows) == 0 ? 0 : Math.Round((double)Interlocked.Read(ref _agreements) / Interlocked.Read(ref _rows), 4),
            shiftedAgreement = Interlocked.Read(ref _shiftedRows) == 0 ? 0 : Math.Round((double)Interlocked.Read(ref _shiftedAgreements) / Interlocked.Read(ref _shiftedRows), 4),
            readingsPerRequest = 8,
            shift = _shift is { } shiftWindow ? new { fromSeconds = Math.Round(shiftWindow.From, 1), toSeconds = Math.Round(shiftWindow.To, 1) } : null,
            driftWindows = Interlocked.Read(ref _driftWindows),
            driftAlerts = DriftAlerts(),
            latencyMs = new { p50 = Math.Round(_latency.Quantile(0.5) / 1000, 3), p95 = Math.Round(_latency.Quantile(0.95) / 1000, 3), p99 = Math.Round(_latency.Quantile(0.99) / 1000, 3) },
            requestsPerSecond = _trafficSeconds > 0 ? Math.Round(inferences / _trafficSeconds, 1) : 0,
            bundle = new { name = ModelName, version = ModelVersion, bytes = _bundleBytes, chunks = _bundleChunks },
            broker = _brokerUrl,
            devices = DeviceRows(),
            rollout = RolloutSummary(rollout, pauses),
            timing = new
            {
                readySeconds = Round(_readySeconds),
                firstServingSeconds = Round(_firstServingSeconds),
                rolloutEndedSeconds = Round(_rolloutEndedSeconds),
                trafficSeconds = Math.Round(_trafficSeconds, 1),
                totalSeconds = Math.Round(_clock.Elapsed.TotalSeconds, 1),
            },
            errors,
        };
        if (_settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(summary, Core.CoreJson.Options));
        }
        else if (aborted)
        {
            Console.WriteLine($"demo stopped: rollout {RolloutId} aborted: {rollout!.Reason ?? "no reason given"} ({RolloutDriver.Summary(rollout)}; {rollout.Devices.Values.Count(d => d.Restored == true)} device(s) written back)");
        }
        else
        {
            Console.WriteLine(ok
                ? $"demo OK: {ModelName} {ModelVersion} {(completed ? $"rolled out in {rollout!.WaveSizes.Count} wave(s), Active on {active}/{_devices.Count} devices" : $"rollout {rollout!.State} at wave {rollout.CurrentWave}/{rollout.WaveSizes.Count} when stopped, Active on {active}/{_devices.Count} devices")}, {inferences} inferences served, {summary.metricsDelivered} metrics records and {summary.healthReports} health reports delivered over MQTT, {summary.driftAlerts.Count} drift alert(s)"
                : $"demo FAILED: {string.Join("; ", errors.DefaultIfEmpty($"{active}/{_devices.Count} devices Active, {inferences} inferences, {summary.metricsDelivered} metrics, {summary.healthReports} health reports"))}");
        }

        return aborted ? ExitCodes.RolloutAborted : ok ? ExitCodes.Ok : ExitCodes.DemoFailed;
    }

    private static double? Round(double? seconds) => seconds is { } s ? Math.Round(s, 1) : null;

    private List<object> DeviceRows()
    {
        lock (_gate)
        {
            return
            [
                .. _devices.Select(d => (object)new
                {
                    id = d.Id,
                    group = d.Group,
                    deviceType = d.DeviceType,
                    status = d.Status,
                    modelState = d.ModelState,
                    modelVersion = d.ActiveVersion,
                    reason = d.Reason,
                    servingFromSeconds = d.ServingFromSeconds,
                    inferences = Interlocked.Read(ref d.Inferences),
                    inferenceErrors = Interlocked.Read(ref d.InferenceErrors),
                    metricsDelivered = Interlocked.Read(ref d.MetricsDelivered),
                    inferencesInMetrics = Interlocked.Read(ref d.InferencesInMetrics),
                    healthReports = Interlocked.Read(ref d.HealthReports),
                    events = Interlocked.Read(ref d.Events),
                    driftState = d.DriftState,
                    driftWindows = Interlocked.Read(ref d.DriftWindows),
                    driftAlerts = Interlocked.Read(ref d.DriftAlerts),
                    latencyMs = new { p50 = Math.Round(d.Latency.Quantile(0.5) / 1000, 3), p95 = Math.Round(d.Latency.Quantile(0.95) / 1000, 3) },
                    rssMb = Math.Round(d.LastRssMb, 1),
                    cpuPercent = Math.Round(d.LastCpu, 1),
                    outboxDepth = d.OutboxDepth,
                }),
            ];
        }
    }

    /// <summary>The rollout as it ended: its plan, per-wave timing (from the devices' targeting and success times), pauses.</summary>
    private static object? RolloutSummary(RolloutDocument? r, List<PauseView> pauses)
    {
        if (r is null)
        {
            return null;
        }

        double Since(DateTimeOffset t) => Math.Round((t - r.Created).TotalSeconds, 1);
        var waves = Enumerable.Range(1, r.WaveSizes.Count).Select(i =>
        {
            var ids = WavePlan.DevicesOf(r.Targets, r.WaveSizes, i);
            var devices = ids.Select(id => r.Devices[id]).ToList();
            DateTimeOffset? started = devices.Any(d => d.Targeted is not null) ? devices.Where(d => d.Targeted is not null).Min(d => d.Targeted!.Value) : null;
            DateTimeOffset? succeeded = devices.All(d => d.Status == RolloutDeviceStatus.Succeeded) ? devices.Max(d => d.Updated ?? r.Updated) : null;
            return new
            {
                wave = i,
                size = r.WaveSizes[i - 1],
                devices = ids,
                startedAt = started,
                startedAtSeconds = started is { } s ? Since(s) : (double?)null,
                succeededAt = succeeded,
                succeededAtSeconds = succeeded is { } a ? Since(a) : (double?)null,
            };
        }).ToList();
        return new
        {
            id = r.Id,
            state = r.State,
            reason = r.Reason,
            plan = r.Waves,
            waveSizes = r.WaveSizes,
            currentWave = r.CurrentWave,
            probationSeconds = r.ProbationSeconds,
            counts = r.Counts,
            created = r.Created,
            updated = r.Updated,
            seconds = Since(r.Updated),
            waves,
            pauses = pauses.Select(p => new
            {
                pausedAt = p.PausedAt,
                pausedAtSeconds = Since(p.PausedAt),
                pausedBy = p.PausedBy,
                resumedAt = p.ResumedAt,
                resumedAtSeconds = p.ResumedAt is { } t ? Since(t) : (double?)null,
                resumedBy = p.ResumedBy,
            }),
            restored = r.Devices.Where(kv => kv.Value.Restored == true).Select(kv => kv.Key),
        };
    }

    private List<object> DriftAlerts()
    {
        lock (_gate)
        {
            return [.. _driftAlerts];
        }
    }

    private void AddError(string message)
    {
        lock (_gate)
        {
            if (_errors.Count < 20 && !_errors.Contains(message))
            {
                _errors.Add(message);
            }
        }
    }

    private static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (!condition())
        {
            if (Stopwatch.GetTimestamp() > deadline || cancellationToken.IsCancellationRequested)
            {
                return false;
            }

            try
            {
                await Task.Delay(50, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return condition();
            }
        }

        return true;
    }

    private static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Temp files; the OS cleans them eventually.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }
}
