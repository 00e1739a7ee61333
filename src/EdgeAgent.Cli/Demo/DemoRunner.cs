using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeAgent.Agent;
using EdgeAgent.Agent.Drift;
using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Drift;
using EdgeAgent.Core.Telemetry;
using EdgeAgent.Fleet.Bundles;
using EdgeAgent.Fleet.Keys;
using EdgeAgent.Fleet.Mqtt;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace EdgeAgent.Cli.Demo;

/// <summary>
/// <c>edgectl demo</c>: the whole loop on one machine with nothing installed. Embedded broker on a free loopback port,
/// an agent with a temporary state folder and socket, a fresh signing key, the sample model bundled, signed, published
/// and deployed, simulated sensor traffic through the local API, and a live view of what comes back over MQTT.
/// </summary>
internal sealed class DemoRunner
{
    public const string DeviceId = "demo-1";
    public const string ModelName = "vibration";
    public const string ModelVersion = "1.0.0";
    private static readonly string[] ClassNames = ["normal", "warning", "fault"];

    private readonly Settings _settings;
    private readonly Lock _gate = new();
    private readonly LatencyHistogram _latency = new();
    private readonly long[] _predicted = new long[3];
    private readonly List<string> _errors = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private string _phase = "starting";
    private string _brokerUrl = "-";
    private string _modelState = "-";
    private string? _modelVersion;
    private string? _modelReason;
    private string _deviceStatus = "-";
    private long _inferences;
    private long _inferenceErrors;
    private long _agreements;
    private long _metricsDelivered;
    private long _inferencesInMetrics;
    private readonly SeqLedger _seen = new();
    private long _lastMetricsSeq;
    private long _healthReports;
    private long _events;
    private long _bundleBytes;
    private int _bundleChunks;
    private long _publishedBytes;
    private double _lastRssMb;
    private double _lastCpu;
    private long _outboxDepth;
    private double _trafficSeconds;
    private long _rows;
    private long _shiftedRows;
    private long _shiftedAgreements;
    private long _driftWindows;
    private string _driftState = "-";
    private (double From, double To)? _shift;
    private long _trafficStarted;
    private readonly List<object> _driftAlerts = [];

    public DemoRunner(Settings settings) => _settings = settings;

    public sealed record Settings
    {
        public TimeSpan? Duration { get; init; }

        public bool Json { get; init; }

        public bool Keep { get; init; }

        public int RequestsPerSecond { get; init; } = 50;
    }

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("edgeagent-demo-").FullName;
        var collector = new ErrorCollector(Path.Combine(work, "agent.log"));
        try
        {
            await using var broker = await EmbeddedBroker.StartAsync();
            _brokerUrl = broker.Url;
            var bundle = BuildBundle(work, out var publicKey);
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Agent:DeviceId"] = DeviceId,
                ["Agent:StateDirectory"] = Path.Combine(work, "state"),
                ["Agent:ApiSocket"] = Path.Combine(work, "api.sock"),
                ["Agent:FetchTimeoutSeconds"] = "20",
                ["Agent:ProbationSeconds"] = "0",
                ["Mqtt:Url"] = broker.Url,
                ["Trust:PublicKeys:0"] = publicKey,
                ["Telemetry:WindowSeconds"] = "2",
                ["Telemetry:HealthIntervalSeconds"] = "2",
                ["Drift:WindowSeconds"] = "1",
                ["Drift:MinSamples"] = "100",
                ["Capture:Enabled"] = "true",
            }).Build();
            var agent = AgentHost.Build(configuration, logging =>
            {
                logging.ClearProviders();
                logging.AddProvider(collector);
            });
            await using (agent)
            {
                await agent.StartAsync(cancellationToken);
                try
                {
                    await using var observer = await FleetConnection.ConnectAsync(broker.Url, clientId: "edgectl-demo-observer", cancellationToken: cancellationToken);
                    observer.MessageReceived += OnMessage;
                    await observer.WatchAsync(observer.Topics.Device(DeviceId, "#"), cancellationToken);
                    var run = DriveAsync(agent.Services, broker.Url, bundle, Path.Combine(work, "api.sock"), cancellationToken);
                    await ShowAsync(run);
                }
                finally
                {
                    await agent.StopAsync(CancellationToken.None);
                }
            }
        }
        finally
        {
            collector.Dispose();
            foreach (var error in collector.Errors)
            {
                AddError($"agent: {error}");
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

    private async Task DriveAsync(IServiceProvider agent, string brokerUrl, string bundlePath, string socket, CancellationToken cancellationToken)
    {
        await using (var publisher = await FleetConnection.ConnectAsync(brokerUrl, clientId: "edgectl-demo-operator", cancellationToken: cancellationToken))
        {
            _phase = "publishing bundle";
            var progress = new Progress<BundlePublisher.Progress>(p => Interlocked.Exchange(ref _publishedBytes, p.BytesSent));
            await BundlePublisher.PublishAsync(publisher, bundlePath, null, progress, cancellationToken);
            Interlocked.Exchange(ref _publishedBytes, _bundleBytes);
            _phase = "rolling out";
            await DesiredStateWriter.SetModelAsync(publisher, DeviceId, ModelName, ModelVersion, TimeSpan.FromSeconds(0.5), cancellationToken);
        }

        if (!await WaitUntilAsync(() => _modelState is "Active" or "Failed", TimeSpan.FromSeconds(60), cancellationToken) || _modelState != "Active")
        {
            AddError($"model did not become Active (state {_modelState}{(_modelReason is null ? string.Empty : ": " + _modelReason)})");
            return;
        }

        _phase = "serving traffic";
        using var client = new AgentApiClient(socket);
        var simulator = new SensorSimulator(seed: 20261126);
        var started = Stopwatch.GetTimestamp();
        Interlocked.Exchange(ref _trafficStarted, started);
        var deadline = _settings.Duration is { } d ? started + (long)(d.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;

        // A loosened sensor mounting for a while: from 25% to 55% of the run, or 20-35 s of every minute until Ctrl-C.
        if (_settings.Duration is { } total)
        {
            _shift = (total.TotalSeconds * 0.25, total.TotalSeconds * 0.55);
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / _settings.RequestsPerSecond));
        try
        {
            while (Stopwatch.GetTimestamp() < deadline && await timer.WaitForNextTickAsync(cancellationToken))
            {
                var t = Stopwatch.GetElapsedTime(started).TotalSeconds;
                var shifted = _shift is { } s ? t >= s.From && t < s.To : t % 60 is >= 20 and < 35;
                await InferOnceAsync(client, simulator, shifted, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C: finish the loop and report.
        }

        _trafficSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        _phase = "flushing metrics";
        agent.GetRequiredService<MetricsWindowService>().Flush();
        agent.GetRequiredService<DriftMonitor>().CloseWindows();
        var expected = Interlocked.Read(ref _inferences);
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await WaitUntilAsync(() => Interlocked.Read(ref _inferencesInMetrics) >= expected && Interlocked.Read(ref _healthReports) > 0, TimeSpan.FromSeconds(15), grace.Token);
        _phase = "done";
    }

    private async Task InferOnceAsync(AgentApiClient client, SensorSimulator simulator, bool shifted, CancellationToken cancellationToken)
    {
        // Each request carries a burst of readings, as a sensor gateway would send them.
        var classes = new int[8];
        var body = simulator.NextRequest(shifted, classes);
        var t0 = Stopwatch.GetTimestamp();
        var (status, response) = await client.SendAsync(HttpMethod.Post, $"/v2/models/{ModelName}/infer", body, cancellationToken);
        _latency.Record(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
        if (status != 200)
        {
            Interlocked.Increment(ref _inferenceErrors);
            AddError($"inference answered {status}: {AgentApiClient.ErrorText(response)}");
            return;
        }

        Interlocked.Increment(ref _inferences);
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

    /// <summary>True the first time a record's <c>seq</c> is seen (the sequence runs across metrics and events).</summary>
    private bool IsNew(JsonElement record)
    {
        lock (_seen)
        {
            return _seen.Add(OutboxPayload.Seq(record));
        }
    }

    private void OnMessage(string topic, byte[] payload)
    {
        var leaf = topic[(topic.LastIndexOf('/') + 1)..];
        try
        {
            using var doc = JsonDocument.Parse(payload);
            var root = doc.RootElement;
            switch (leaf)
            {
                case "metrics":
                    // One record, or a batch {"records":[...]} after the outbox held several; a record sent again
                    // (at-least-once delivery) is recognised by its seq and counted once.
                    foreach (var record in OutboxPayload.Records(root))
                    {
                        if (!IsNew(record))
                        {
                            continue;
                        }

                        Interlocked.Increment(ref _metricsDelivered);
                        Interlocked.Add(ref _inferencesInMetrics, record.GetProperty("count").GetInt64());
                        Interlocked.Exchange(ref _lastMetricsSeq, Math.Max(Interlocked.Read(ref _lastMetricsSeq), OutboxPayload.Seq(record)));
                    }

                    break;
                case "health":
                    Interlocked.Increment(ref _healthReports);
                    _lastRssMb = root.GetProperty("rssBytes").GetInt64() / 1048576.0;
                    _lastCpu = root.GetProperty("cpuPercent").GetDouble();
                    _outboxDepth = root.GetProperty("outbox").GetProperty("depth").GetInt64();
                    break;
                case "status":
                    _deviceStatus = root.GetProperty("state").GetString() ?? "-";
                    break;
                case "events":
                    Interlocked.Add(ref _events, OutboxPayload.Records(root).Count(IsNew));
                    break;
                case "drift":
                    foreach (var record in root.ValueKind == JsonValueKind.Array ? [.. root.EnumerateArray()] : root.TryGetProperty("records", out var batch) ? [.. batch.EnumerateArray()] : new[] { root })
                    {
                        OnDrift(record);
                    }

                    break;
                case "reported":
                    foreach (var model in root.GetProperty("models").EnumerateArray())
                    {
                        if (model.GetProperty("name").GetString() == ModelName)
                        {
                            _modelReason = model.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
                            _modelVersion = model.TryGetProperty("activeVersion", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                            _modelState = model.GetProperty("state").GetString() ?? "-";
                        }
                    }

                    break;
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            AddError($"unreadable message on {topic}: {ex.Message}");
        }
    }

    private void OnDrift(JsonElement record)
    {
        var state = record.GetProperty("state").GetString() ?? "-";
        if (record.GetProperty("kind").GetString() == "alert")
        {
            var drifted = record.GetProperty("features").EnumerateArray()
                .Where(f => f.GetProperty("state").GetString() == "drift")
                .Select(f => f.GetProperty("name").GetString())
                .ToList();
            lock (_gate)
            {
                _driftAlerts.Add(new
                {
                    atSeconds = Math.Round(Stopwatch.GetElapsedTime(Interlocked.Read(ref _trafficStarted)).TotalSeconds, 1),
                    state,
                    previousState = record.GetProperty("previousState").GetString(),
                    seq = record.GetProperty("seq").GetInt64(),
                    drifted,
                });
            }

            _driftState = state;
        }
        else
        {
            Interlocked.Increment(ref _driftWindows);
            if (state != "insufficient")
            {
                _driftState = state;
            }
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

    private string OneLine() => string.Create(
        CultureInfo.InvariantCulture,
        $"[{_clock.Elapsed.TotalSeconds,5:0.0}s] {_phase}: model {_modelState} {_modelVersion}, {Interlocked.Read(ref _inferences)} inferences, p95 {_latency.Quantile(0.95) / 1000:0.00} ms, {Interlocked.Read(ref _metricsDelivered)} metrics records, {Interlocked.Read(ref _healthReports)} health reports");

    private Table Render()
    {
        var elapsed = _clock.Elapsed.TotalSeconds;
        var inferences = Interlocked.Read(ref _inferences);
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]EdgeAgent demo[/] — {Markup.Escape(_phase)} ({elapsed:0}s{(_phase == "done" ? string.Empty : _settings.Duration is { } d ? $"; {d.TotalSeconds:0}s of traffic once the model is Active" : "; Ctrl-C to stop")})")
            .AddColumn("what").AddColumn("now");
        table.AddRow("broker", $"embedded MQTTnet at {Markup.Escape(_brokerUrl)}");
        table.AddRow("device", $"{DeviceId} [{(_deviceStatus == "online" ? "green" : "yellow")}]{Markup.Escape(_deviceStatus)}[/]");
        table.AddRow("bundle", $"{ModelName} {ModelVersion}: {Interlocked.Read(ref _publishedBytes)}/{_bundleBytes} bytes published in {_bundleChunks} signed chunk(s)");
        var stateColour = _modelState switch { "Active" => "green", "Failed" => "red", _ => "yellow" };
        table.AddRow("rollout", $"[{stateColour}]{Markup.Escape(_modelState)}[/] {Markup.Escape(_modelVersion ?? string.Empty)} {Markup.Escape(_modelReason ?? string.Empty)}");
        table.AddRow("inference", string.Create(CultureInfo.InvariantCulture, $"{inferences} ok, {Interlocked.Read(ref _inferenceErrors)} failed, p50 {_latency.Quantile(0.5) / 1000:0.00} ms, p95 {_latency.Quantile(0.95) / 1000:0.00} ms (client side, over the unix socket)"));
        var rows = Interlocked.Read(ref _rows);
        table.AddRow("predictions", $"normal {Interlocked.Read(ref _predicted[0])}, warning {Interlocked.Read(ref _predicted[1])}, fault {Interlocked.Read(ref _predicted[2])} — agrees with the simulated state {(rows == 0 ? 0 : 100.0 * Interlocked.Read(ref _agreements) / rows):0.0}% (healthy sensor)");
        int alerts;
        lock (_gate)
        {
            alerts = _driftAlerts.Count;
        }

        var driftColour = _driftState switch { "ok" => "green", "drift" => "red", _ => "yellow" };
        table.AddRow("drift", $"[{driftColour}]{Markup.Escape(_driftState)}[/], {Interlocked.Read(ref _driftWindows)} window(s) judged, {alerts} alert(s){(_shift is { } s ? string.Create(CultureInfo.InvariantCulture, $"; the sensor mounting loosens at {s.From:0.#} s and is fixed at {s.To:0.#} s of traffic") : "; the sensor mounting loosens 20-35 s into every minute")}");
        table.AddRow("metrics", $"{Interlocked.Read(ref _metricsDelivered)} window record(s) on the broker (last seq {Interlocked.Read(ref _lastMetricsSeq)}), {Interlocked.Read(ref _inferencesInMetrics)} inferences counted");
        table.AddRow("health", string.Create(CultureInfo.InvariantCulture, $"{Interlocked.Read(ref _healthReports)} heartbeat(s); agent RSS {_lastRssMb:0} MiB, CPU {_lastCpu:0.0}%, outbox depth {_outboxDepth}"));
        table.AddRow("events", $"{Interlocked.Read(ref _events)} deployment event(s)");
        return table;
    }

    private int Report()
    {
        var inferences = Interlocked.Read(ref _inferences);
        List<string> errors;
        lock (_gate)
        {
            errors = [.. _errors];
        }

        var ok = _modelState == "Active" && inferences > 0 && Interlocked.Read(ref _metricsDelivered) > 0 && Interlocked.Read(ref _healthReports) > 0 && errors.Count == 0;
        if (inferences > 0 && Interlocked.Read(ref _metricsDelivered) == 0)
        {
            errors.Add("no metrics record reached the broker");
        }

        var summary = new
        {
            modelState = _modelState,
            modelVersion = _modelVersion,
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
            errors,
        };
        if (_settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(summary, Core.CoreJson.Options));
        }
        else
        {
            Console.WriteLine(ok
                ? $"demo OK: {ModelName} {_modelVersion} Active, {inferences} inferences served, {summary.metricsDelivered} metrics records and {summary.healthReports} health reports delivered over MQTT, {summary.driftAlerts.Count} drift alert(s)"
                : $"demo FAILED: {string.Join("; ", errors.DefaultIfEmpty($"model {_modelState}, {inferences} inferences, {summary.metricsDelivered} metrics, {summary.healthReports} health reports"))}");
        }

        return ok ? ExitCodes.Ok : ExitCodes.DemoFailed;
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
