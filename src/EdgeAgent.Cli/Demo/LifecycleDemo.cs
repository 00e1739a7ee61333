using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeAgent.Agent;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Fleet.Bundles;
using EdgeAgent.Fleet.Keys;
using EdgeAgent.Fleet.Mqtt;
using EdgeAgent.Fleet.Rollouts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace EdgeAgent.Cli.Demo;

/// <summary>
/// <c>edgectl demo --lifecycle</c>: the model lifecycle loop of deploy-manifests/lifecycle on one machine (issue 8). A
/// fleet of in-process agents serves v1 behind an embedded broker; the simulated sensors' mountings loosen; drift
/// alerts reach the drift bridge, which queues one retraining on a Celery worker (Redis as its broker); the task
/// collects the captured samples over MQTT, has them labelled, trains and evaluates a candidate against v1, bundles
/// it with the CI key, co-signs it with the release key (the devices need both), publishes it and starts a canary
/// rollout; the demo watches the waves pass probation and the drift return below threshold on the new baseline,
/// then asks for a deliberately worse candidate and shows it refused. Every step is observed on the broker and
/// printed on a timeline.
/// </summary>
internal sealed class LifecycleDemo
{
    public const string ModelName = "vibration";
    public const string FirstVersion = "1.0.0";

    private readonly Settings _settings;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private readonly List<TimelineEntry> _timeline = [];
    private readonly List<string> _errors = [];
    private readonly Dictionary<string, DeviceView> _devices = new(StringComparer.Ordinal);
    private readonly List<JsonElement> _lifecycleEvents = [];
    private readonly List<AlertView> _alerts = [];
    private readonly Dictionary<string, string> _rolloutSeen = new(StringComparer.Ordinal);
    private readonly List<string> _truth = [];
    private RolloutDocument? _rollout;
    private volatile bool _shifted;
    private long _inferences;
    private long _inferenceErrors;

    public LifecycleDemo(Settings settings) => _settings = settings;

    public sealed record Settings
    {
        public bool Json { get; init; }

        public bool Keep { get; init; }

        public int Devices { get; init; } = 4;

        public int RequestsPerSecond { get; init; } = 20;

        public int ProbationSeconds { get; init; } = 8;

        public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(3);
    }

    private sealed record TimelineEntry(double AtSeconds, string Step, string Detail);

    private sealed record AlertView(string Device, string Version, string State, double AtSeconds, IReadOnlyList<string?> Drifted);

    private sealed class DeviceView
    {
        public string? Version { get; set; }

        public string State { get; set; } = "-";

        public string? Reason { get; set; }

        public Dictionary<string, (string State, int Windows, double MaxPsi)> Drift { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>What the demo needs beside .NET, or null when it is all there: an error line naming what is missing.</summary>
    public static async Task<string?> MissingPrerequisiteAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(ScriptsDirectory) || !File.Exists(Path.Combine(ScriptsDirectory, "tasks.py")))
        {
            return $"the lifecycle scripts are not next to this edgectl ({ScriptsDirectory}); run the demo from a source checkout: dotnet run --project src/EdgeAgent.Cli -- demo --lifecycle";
        }

        var missing = new List<string>();
        var probe = await RunToEndAsync(Python, ["-c", "import sklearn, onnx, numpy, celery, redis, paho.mqtt.client"], ScriptsDirectory, new Dictionary<string, string>(), TimeSpan.FromSeconds(60), cancellationToken);
        if (probe.Code != 0)
        {
            missing.Add($"{Python}: {probe.Output.Trim().Split('\n').LastOrDefault()}");
        }

        if (RedisServer is null)
        {
            missing.Add("redis-server not found");
        }

        return missing.Count == 0
            ? null
            : $"demo --lifecycle needs python3 with scikit-learn, onnx, numpy, celery, redis and paho-mqtt, and redis-server ({string.Join("; ", missing)}); on Debian: sudo apt-get install python3-sklearn python3-onnx python3-numpy python3-celery python3-redis python3-paho-mqtt redis-server";
    }

    internal static string ScriptsDirectory => Path.Combine(AppContext.BaseDirectory, "lifecycle");

    /// <summary>Debian's interpreter first: the packages above are installed for it, not for a pyenv or venv python3 on PATH.</summary>
    private static string Python => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    private static string? RedisServer =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Append("/usr/sbin")
            .Select(d => Path.Combine(d, "redis-server"))
            .FirstOrDefault(File.Exists);

    /// <summary>How the Celery worker runs this edgectl: the apphost beside it, else <c>dotnet edgectl.dll</c>.</summary>
    private static string EdgectlCommand
    {
        get
        {
            var apphost = Path.Combine(AppContext.BaseDirectory, "edgectl");
            return File.Exists(apphost) ? $"'{apphost}'" : $"dotnet '{Path.Combine(AppContext.BaseDirectory, "edgectl.dll")}'";
        }
    }

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("edgeagent-lifecycle-").FullName;
        var collectors = new List<ErrorCollector>();
        var children = new List<ChildProcess>();
        var agents = new List<IAsyncDisposable>();
        string? released = null;
        try
        {
            await using var broker = await EmbeddedBroker.StartAsync();
            Record("broker", $"embedded MQTT broker at {broker.Url}");
            var keys = new
            {
                Ci = SigningKeys.Generate(Path.Combine(work, "keys", "ci"), "ci"),
                Release = SigningKeys.Generate(Path.Combine(work, "keys", "release"), "release"),
            };
            var redisPort = EmbeddedBroker.FreePort();
            var environment = LifecycleEnvironment(work, broker.Port, redisPort, keys.Ci, keys.Release);

            // Redis, the Celery worker and the bridge start while the fleet comes up.
            Directory.CreateDirectory(Path.Combine(work, "redis"));
            var redis = Start(children, "redis-server", RedisServer!, ["--port", redisPort.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no", "--dir", Path.Combine(work, "redis")], work, environment, "Ready to accept connections");
            await redis.WaitReadyAsync(TimeSpan.FromSeconds(30), cancellationToken);
            var worker = Start(children, "celery worker", Python, ["-m", "celery", "-A", "tasks", "worker", "--pool", "solo", "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", "lifecycle@demo"], ScriptsDirectory, environment, " ready.");
            var bridge = Start(children, "drift bridge", Python, ["bridge.py", "--host", "127.0.0.1", "--port", broker.Port.ToString(CultureInfo.InvariantCulture), "--cooldown", "600", "--gather", "5"], ScriptsDirectory, environment, "bridge: watching");
            await MakeDataAsync(work, cancellationToken);
            var bundle = BuildFirstBundle(work, keys.Ci, keys.Release);

            var deviceIds = Enumerable.Range(1, _settings.Devices).Select(i => $"line-{i}").ToList();
            Directory.CreateDirectory(Path.Combine(work, "devices"));
            foreach (var id in deviceIds)
            {
                _devices[id] = new DeviceView();
                var collector = new ErrorCollector(Path.Combine(work, "devices", id + ".log"));
                collectors.Add(collector);
                agents.Add(await StartAgentAsync(work, id, broker.Url, keys.Ci.PublicKeyPath, keys.Release.PublicKeyPath, collector, cancellationToken));
            }

            await using var observer = await FleetConnection.ConnectAsync(broker.Url, clientId: "edgectl-lifecycle-observer", cancellationToken: cancellationToken);
            observer.MessageReceived += OnMessage;
            foreach (var filter in new[] { observer.Topics.AllDevices("reported"), observer.Topics.AllDevices("drift"), observer.Topics.Rollouts(), $"{observer.Topics.Prefix}/lifecycle/+/events" })
            {
                await observer.WatchAsync(filter, cancellationToken);
            }

            await worker.WaitReadyAsync(TimeSpan.FromSeconds(60), cancellationToken);
            await bridge.WaitReadyAsync(TimeSpan.FromSeconds(60), cancellationToken);
            Record("services", $"redis-server on 127.0.0.1:{redisPort}, Celery worker (deploy-manifests/lifecycle/tasks.py) and drift bridge (bridge.py) running; {deviceIds.Count} devices trust the CI and release keys with threshold 2");

            // v1 on every device.
            await using (var operatorConnection = await FleetConnection.ConnectAsync(broker.Url, clientId: "edgectl-lifecycle-operator", cancellationToken: cancellationToken))
            {
                await BundlePublisher.PublishAsync(operatorConnection, bundle, null, null, cancellationToken);
                Record("v1", $"{ModelName} {FirstVersion} (the sample model, signed by both keys, drift baseline of the healthy sensor) published; desired state set on {deviceIds.Count} devices");
                foreach (var id in deviceIds)
                {
                    await DesiredStateWriter.SetModelAsync(operatorConnection, id, ModelName, FirstVersion, TimeSpan.FromSeconds(0.5), cancellationToken);
                }
            }

            await StepAsync("v1 active", () => ActiveOn(FirstVersion) == deviceIds.Count, () => $"{ModelName} {FirstVersion} Active on {deviceIds.Count}/{deviceIds.Count} devices", cancellationToken);

            using var traffic = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var drive = Task.WhenAll(deviceIds.Select((id, i) => Task.Run(() => TrafficAsync(Path.Combine(work, "devices", id, "api.sock"), 1000 + i, traffic.Token), CancellationToken.None)));
            try
            {
                await StepAsync("healthy traffic", () => deviceIds.All(id => DriftOf(id, FirstVersion) is { State: "ok", Windows: >= 2 }), () => $"{_settings.RequestsPerSecond} requests/s of 8 readings per device; drift ok on every device ({Interlocked.Read(ref _inferences)} inferences)", cancellationToken);

                _shifted = true;
                Record("traffic shifts", "the sensor mountings loosen: rms×1.4+0.2, freq_khz+0.15, high_band+0.12 (the classes stay the same); the true state of every reading is recorded for labelling (truth.csv)");
                _ = Task.Run(() => WriteTruthAsync(Path.Combine(work, "truth.csv"), traffic.Token), CancellationToken.None);
                await StepAsync("drift alerts", () => AlertCount(FirstVersion) >= 1, () => $"first drift alert: {FirstAlert()}", cancellationToken);
                await StepAsync("retraining queued", () => EventCount("queued") >= 1, () => Describe(LastEvent("queued")), cancellationToken);
                await StepAsync("released", () => EventCount("released") + EventCount("refused") + EventCount("failed") + EventCount("rollout-aborted") >= 1, () => Describe(LastEvent("released")), cancellationToken);
                if (EventCount("released") == 0)
                {
                    throw new InvalidOperationException($"the retraining did not release a model: {Describe(LastEventOf("refused", "failed", "rollout-aborted"))}");
                }

                released = LastEvent("released")!.Value.GetProperty("version").GetString() ?? throw new InvalidDataException("the released event names no version");
                await StepAsync("fleet on v2", () => ActiveOn(released!) == deviceIds.Count, () => $"{ModelName} {released} Active on {deviceIds.Count}/{deviceIds.Count} devices", cancellationToken);
                await StepAsync("drift back to ok", () => deviceIds.All(id => DriftOf(id, released!) is { State: "ok", Windows: >= 2 }) && AlertCount(released!) == 0, () => $"drift against {released}'s baseline (the captured field data): ok on every device, worst PSI {deviceIds.Max(id => DriftOf(id, released!)?.MaxPsi ?? 0):0.###}", cancellationToken);

                // A deliberately worse candidate (shuffled labels) must be refused; the fleet stays on v2.
                Record("worse candidate", "queue a retraining with shuffled labels (tasks.py --train-arg=--shuffle-labels)");
                var worse = await RunToEndAsync(Python, ["tasks.py", "--model", ModelName, "--devices", string.Join(',', deviceIds), "--reason", "demo-worse-candidate", "--train-arg=--shuffle-labels", "--wait"], ScriptsDirectory, environment, _settings.StepTimeout, cancellationToken);
                if (worse.Code != 0)
                {
                    throw new InvalidOperationException($"tasks.py --wait failed ({worse.Code}): {worse.Output.Trim()}");
                }

                await StepAsync("worse candidate refused", () => EventCount("refused") >= 1, () => Describe(LastEvent("refused")), cancellationToken);
                if (ActiveOn(released) != deviceIds.Count)
                {
                    AddError($"after the refusal {ActiveOn(released)}/{deviceIds.Count} devices are Active on {released}");
                }
            }
            finally
            {
                await traffic.CancelAsync();
                await drive;
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException or JsonException)
        {
            AddError(ex.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            AddError("stopped (Ctrl-C)");
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }

            foreach (var child in Enumerable.Reverse(children))
            {
                await child.DisposeAsync();
            }

            foreach (var collector in collectors)
            {
                collector.Dispose();
                foreach (var error in collector.Errors)
                {
                    AddError($"agent: {error}");
                }
            }
        }

        var code = Report(released, work);
        if (_settings.Keep)
        {
            Console.Error.WriteLine($"demo files kept in {work} (devices/*.log, celery worker.log, lifecycle/{ModelName}/runs/*/evaluation.json)");
        }
        else
        {
            TryDelete(work);
        }

        return code;
    }

    private Dictionary<string, string> LifecycleEnvironment(string work, int mqttPort, int redisPort, SigningKeys.KeyPairFiles ci, SigningKeys.KeyPairFiles release) => new(StringComparer.Ordinal)
    {
        ["LIFECYCLE_BROKER_URL"] = $"redis://127.0.0.1:{redisPort}/0",
        ["MQTT_HOST"] = "127.0.0.1",
        ["MQTT_PORT"] = mqttPort.ToString(CultureInfo.InvariantCulture),
        ["EDGECTL"] = EdgectlCommand,
        ["CI_KEY"] = ci.PrivateKeyPath,
        ["RELEASE_KEY"] = release.PrivateKeyPath,
        ["TRUST"] = $"{ci.PublicKeyPath},{release.PublicKeyPath}",
        ["LIFECYCLE_TRAIN_CSV"] = Path.Combine(work, "train.csv"),
        ["LIFECYCLE_HOLDOUT_CSV"] = Path.Combine(work, "holdout.csv"),
        ["LIFECYCLE_CURRENT_MODEL"] = Path.Combine(work, "vibration-1.0.0.onnx"),
        ["LIFECYCLE_CURRENT_VERSION"] = FirstVersion,
        ["LIFECYCLE_WORKDIR"] = Path.Combine(work, "lifecycle"),
        ["LIFECYCLE_WAVES"] = "1,100%",
        ["LIFECYCLE_PROBATION"] = $"{_settings.ProbationSeconds}s",
        ["LIFECYCLE_LABELER"] = $"'{Python}' '{Path.Combine(ScriptsDirectory, "label_from_truth.py")}' --truth '{Path.Combine(work, "truth.csv")}'",
        ["PYTHONDONTWRITEBYTECODE"] = "1",
        ["PYTHONUNBUFFERED"] = "1",
    };

    private static ChildProcess Start(List<ChildProcess> children, string name, string file, string[] arguments, string directory, Dictionary<string, string> environment, string readyText)
    {
        var work = environment["LIFECYCLE_WORKDIR"];
        Directory.CreateDirectory(work);
        var child = ChildProcess.Start(name, file, arguments, directory, environment, Path.Combine(work, name.Replace(' ', '-') + ".log"), readyText);
        children.Add(child);
        return child;
    }

    /// <summary>The labelled sets of the training team: the healthy sensor only (samples/vibration/dataset.py).</summary>
    private static async Task MakeDataAsync(string work, CancellationToken cancellationToken)
    {
        foreach (var (file, rows, seed) in new[] { ("train.csv", 1500, 11), ("holdout.csv", 600, 12) })
        {
            var made = await RunToEndAsync(Python, ["dataset.py", "--out", Path.Combine(work, file), "--rows", rows.ToString(CultureInfo.InvariantCulture), "--seed", seed.ToString(CultureInfo.InvariantCulture)], ScriptsDirectory, new Dictionary<string, string> { ["PYTHONDONTWRITEBYTECODE"] = "1" }, TimeSpan.FromSeconds(60), cancellationToken);
            if (made.Code != 0)
            {
                throw new InvalidOperationException($"dataset.py failed: {made.Output.Trim()}");
            }
        }
    }

    private static string BuildFirstBundle(string work, SigningKeys.KeyPairFiles ci, SigningKeys.KeyPairFiles release)
    {
        var modelPath = Path.Combine(work, "vibration-1.0.0.onnx");
        using (var resource = typeof(LifecycleDemo).Assembly.GetManifestResourceStream("samples.vibration.onnx")
            ?? throw new InvalidDataException("the sample model is missing from edgectl (build problem)"))
        using (var file = File.Create(modelPath))
        {
            resource.CopyTo(file);
        }

        using var ciKey = SigningKeys.LoadPrivate(ci.PrivateKeyPath);
        using var releaseKey = SigningKeys.LoadPrivate(release.PrivateKeyPath);
        return BundleBuilder.Create(new BundleBuilder.Request
        {
            ModelPath = modelPath,
            Name = ModelName,
            Version = FirstVersion,
            Keys = [ciKey, releaseKey],
            Drift = SensorSimulator.Baseline(rows: 4000, seed: 4000),
            OutPath = Path.Combine(work, $"{ModelName}-{FirstVersion}.edgebundle"),
        }).Path;
    }

    private static async Task<IAsyncDisposable> StartAgentAsync(string work, string id, string brokerUrl, string ciPublic, string releasePublic, ErrorCollector collector, CancellationToken cancellationToken)
    {
        var home = Path.Combine(work, "devices", id);
        Directory.CreateDirectory(home);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agent:DeviceId"] = id,
            ["Agent:StateDirectory"] = Path.Combine(home, "state"),
            ["Agent:ApiSocket"] = Path.Combine(home, "api.sock"),
            ["Agent:FetchTimeoutSeconds"] = "20",
            ["Agent:ProbationSeconds"] = "0",
            ["Mqtt:Url"] = brokerUrl,
            ["Trust:PublicKeys:0"] = ciPublic,
            ["Trust:PublicKeys:1"] = releasePublic,
            ["Trust:Threshold"] = "2",
            ["Telemetry:WindowSeconds"] = "5",
            ["Telemetry:HealthIntervalSeconds"] = "10",
            // 3-second windows of 20 requests/s of 8 readings: 480 readings per window keep the sampling noise of
            // PSI/JS/KS far below the raise thresholds, so an alert means the distribution moved.
            ["Drift:WindowSeconds"] = "3",
            ["Drift:MinSamples"] = "200",
            ["Capture:Enabled"] = "true",
            ["Capture:SamplesPerMinute"] = "1200",
        }).Build();
        var host = AgentHost.Build(configuration, logging =>
        {
            logging.ClearProviders();
            logging.AddProvider(collector);
        });
        await host.StartAsync(cancellationToken);
        return new StoppingHost(host);
    }

    private sealed class StoppingHost(Microsoft.AspNetCore.Builder.WebApplication host) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await host.StopAsync(CancellationToken.None);
            await host.DisposeAsync();
        }
    }

    private async Task TrafficAsync(string socket, int seed, CancellationToken cancellationToken)
    {
        using var client = new AgentApiClient(socket);
        var sensor = new SensorSimulator(seed);
        var classes = new int[8];
        var labelled = new List<string>(8);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / _settings.RequestsPerSecond));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var shifted = _shifted;
                labelled.Clear();
                var body = sensor.NextRequest(shifted, classes, shifted ? labelled : null);
                var (status, response) = await client.SendAsync(HttpMethod.Post, $"/v2/models/{ModelName}/infer", body, cancellationToken);
                if (status == 200)
                {
                    Interlocked.Increment(ref _inferences);
                }
                else
                {
                    Interlocked.Increment(ref _inferenceErrors);
                    AddError($"inference answered {status}: {AgentApiClient.ErrorText(response)}");
                }

                if (labelled.Count > 0)
                {
                    lock (_truth)
                    {
                        _truth.AddRange(labelled);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The demo is over.
        }
        catch (HttpRequestException ex)
        {
            AddError($"inference over {socket} failed: {ex.Message}");
        }
    }

    /// <summary>Appends the recorded true states to truth.csv once a second, whole lines at a time (the labeler reads it while it grows).</summary>
    private async Task WriteTruthAsync(string path, CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(path, "rms,peak,crest,kurtosis,skewness,freq_khz,low_band,high_band,label\n", CancellationToken.None);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                string[] lines;
                lock (_truth)
                {
                    lines = [.. _truth];
                    _truth.Clear();
                }

                if (lines.Length > 0)
                {
                    await File.AppendAllTextAsync(path, string.Join('\n', lines) + "\n", CancellationToken.None);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The demo is over.
        }
    }

    private void OnMessage(string topic, byte[] payload)
    {
        try
        {
            if (topic.EndsWith("/events", StringComparison.Ordinal) && topic.Contains("/lifecycle/", StringComparison.Ordinal))
            {
                using var doc = JsonDocument.Parse(payload);
                var root = doc.RootElement.Clone();
                lock (_gate)
                {
                    _lifecycleEvents.Add(root);
                }

                Record("lifecycle: " + root.GetProperty("event").GetString(), Describe(root));
                return;
            }

            if (topic.Contains("/rollouts/", StringComparison.Ordinal))
            {
                if (payload.Length > 0 && !topic.EndsWith("/driver", StringComparison.Ordinal))
                {
                    OnRollout(RolloutDocument.Parse(payload, topic));
                }

                return;
            }

            var parts = topic.Split('/');
            var device = parts[^2];
            using var message = JsonDocument.Parse(payload);
            switch (parts[^1])
            {
                case "reported":
                    OnReported(device, message.RootElement);
                    break;
                case "drift":
                    foreach (var record in message.RootElement.TryGetProperty("records", out var batch) ? [.. batch.EnumerateArray()] : new[] { message.RootElement })
                    {
                        OnDrift(device, record);
                    }

                    break;
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or InvalidDataException)
        {
            AddError($"unreadable message on {topic}: {ex.Message}");
        }
    }

    private void OnReported(string device, JsonElement root)
    {
        foreach (var model in root.GetProperty("models").EnumerateArray())
        {
            if (model.GetProperty("name").GetString() != ModelName)
            {
                continue;
            }

            var version = model.TryGetProperty("activeVersion", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            var state = model.GetProperty("state").GetString() ?? "-";
            var reason = model.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            bool changed;
            lock (_gate)
            {
                var view = _devices.GetValueOrDefault(device);
                if (view is null)
                {
                    return;
                }

                changed = view.Version != version || view.State != state;
                (view.Version, view.State, view.Reason) = (version, state, reason);
            }

            if (changed && state is "Active" or "Failed" or "RolledBack" or "Probation")
            {
                Record($"device {device}", $"{ModelName} {version ?? "-"} {state}{(reason is null ? string.Empty : ": " + reason)}");
            }
        }
    }

    private void OnDrift(string device, JsonElement record)
    {
        var version = record.GetProperty("version").GetString() ?? "-";
        var state = record.GetProperty("state").GetString() ?? "-";
        var features = record.GetProperty("features").EnumerateArray().ToList();
        if (record.GetProperty("kind").GetString() == "alert")
        {
            var drifted = features.Where(f => f.GetProperty("state").GetString() == "drift").Select(f => f.GetProperty("name").GetString()).ToList();
            lock (_gate)
            {
                _alerts.Add(new AlertView(device, version, state, Math.Round(_clock.Elapsed.TotalSeconds, 1), drifted));
            }

            Record($"drift alert {device}", $"{ModelName} {version}: {record.GetProperty("previousState").GetString()} → {state}{(drifted.Count == 0 ? string.Empty : " (" + string.Join(", ", drifted) + ")")}");
            return;
        }

        var maxPsi = features.Select(f => f.TryGetProperty("psi", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetDouble() : 0).DefaultIfEmpty(0).Max();
        lock (_gate)
        {
            if (_devices.GetValueOrDefault(device) is { } view)
            {
                var windows = view.Drift.TryGetValue(version, out var seen) && seen.State == state ? seen.Windows + 1 : 1;
                view.Drift[version] = (state, windows, maxPsi);
            }
        }
    }

    private void OnRollout(RolloutDocument doc)
    {
        var counts = doc.Counts;
        var key = $"{doc.State}/{doc.CurrentWave}/{counts.Succeeded}/{counts.Failed}";
        lock (_gate)
        {
            if (_rolloutSeen.GetValueOrDefault(doc.Id) == key)
            {
                return;
            }

            _rolloutSeen[doc.Id] = key;
            _rollout = doc;
        }

        var wave = doc.CurrentWave == 0 ? "no wave started" : $"wave {Math.Min(doc.CurrentWave, doc.WaveSizes.Count)}/{doc.WaveSizes.Count}";
        Record($"rollout {doc.Id}", $"{doc.State}, {wave} (cumulative sizes {string.Join(", ", doc.WaveSizes)}): {counts.Succeeded} Active, {counts.Targeted} in progress, {counts.Failed} failed, {counts.Pending} pending{(doc.Reason is null ? string.Empty : " — " + doc.Reason)}");
    }

    private async Task StepAsync(string step, Func<bool> done, Func<string> detail, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(_settings.StepTimeout.TotalSeconds * Stopwatch.Frequency);
        while (!Holds(done))
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"step '{step}' did not happen within {_settings.StepTimeout.TotalSeconds:0} s; {Snapshot()}");
            }

            await Task.Delay(100, cancellationToken);
        }

        string text;
        lock (_gate)
        {
            text = detail();
        }

        Record("✓ " + step, text);
    }

    /// <summary>What the demo has seen, for a step that did not happen.</summary>
    private string Snapshot()
    {
        lock (_gate)
        {
            var devices = string.Join(", ", _devices.Select(d => $"{d.Key} {d.Value.Version ?? "-"} {d.Value.State} drift[{string.Join(" ", d.Value.Drift.Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.Key}:{x.Value.State}x{x.Value.Windows} psi {x.Value.MaxPsi:0.###}")))}]"));
            var events = string.Join(",", _lifecycleEvents.Select(e => e.GetProperty("event").GetString()));
            return $"devices: {devices}; drift alerts: {_alerts.Count}; lifecycle events: {(events.Length == 0 ? "none" : events)}";
        }
    }

    private bool Holds(Func<bool> condition)
    {
        lock (_gate)
        {
            return condition();
        }
    }

    private int ActiveOn(string version) => _devices.Values.Count(d => d.State == "Active" && d.Version == version);

    private (string State, int Windows, double MaxPsi)? DriftOf(string device, string version) =>
        _devices.GetValueOrDefault(device)?.Drift.TryGetValue(version, out var drift) == true ? drift : null;

    private int AlertCount(string version) => _alerts.Count(a => a.Version == version && a.State == "drift");

    private string FirstAlert() => _alerts.FirstOrDefault() is { } a ? $"{a.Device} on {a.Version} ({string.Join(", ", a.Drifted)})" : "-";

    private int EventCount(string name) => _lifecycleEvents.Count(e => e.GetProperty("event").GetString() == name);

    private JsonElement? LastEvent(string name) => LastEventOf(name);

    private JsonElement? LastEventOf(params string[] names)
    {
        lock (_gate)
        {
            return _lifecycleEvents.LastOrDefault(e => names.Contains(e.GetProperty("event").GetString())) is { ValueKind: JsonValueKind.Object } found ? found : null;
        }
    }

    /// <summary>One line for a lifecycle event (the fields tasks.py and bridge.py publish).</summary>
    private static string Describe(JsonElement? e)
    {
        if (e is not { } ev)
        {
            return "-";
        }

        string S(string name) => ev.TryGetProperty(name, out var p) ? p.ValueKind == JsonValueKind.String ? p.GetString() ?? "-" : p.GetRawText() : "-";
        return ev.GetProperty("event").GetString() switch
        {
            "queued" => $"bridge.py queued one retraining for {S("devices")} ({S("alerts")} drift alert(s) folded into it; task {S("task")})",
            "started" => $"Celery worker runs lifecycle.retrain (reason {S("reason")}, model to beat {S("current")})",
            "collected" => $"capture-export over MQTT: {S("rows")} captured readings ({S("devices")})",
            "labelled" => $"labelled from truth.csv: {S("train")} rows join the training set, {S("holdout")} the held-out set",
            "evaluated" => $"candidate {S("version")} beats the current model on the held-out set: {Scores(ev)}",
            "refused" => $"candidate refused: {S("reason")}",
            "bundled" => $"edgectl bundle create (CI key, drift baseline from the captured data, acceptance vectors): rc {S("rc")}",
            "signed" => $"edgectl bundle sign with the release key (the devices need both signatures): rc {S("rc")}",
            "published" => $"edgectl bundle publish: rc {S("rc")}",
            "rollout-started" => $"edgectl rollout start {S("rollout")}: canary wave first, probation, then the rest",
            "rollout-finished" => $"edgectl rollout start returned {S("rc")}",
            "released" => $"{S("version")} released (was {S("previous")}); it is the model to beat from now on",
            _ => ev.GetRawText(),
        };
    }

    private static string Scores(JsonElement ev)
    {
        if (!ev.TryGetProperty("evaluation", out var evaluation) || evaluation.ValueKind != JsonValueKind.Object)
        {
            return "-";
        }

        var c = evaluation.GetProperty("candidate");
        var p = evaluation.GetProperty("current");
        var text = string.Create(CultureInfo.InvariantCulture, $"macro-F1 {c.GetProperty("f1").GetDouble():0.000} vs {p.GetProperty("f1").GetDouble():0.000}, accuracy {c.GetProperty("accuracy").GetDouble():0.000} vs {p.GetProperty("accuracy").GetDouble():0.000}, latency {c.GetProperty("latencyMs").GetDouble():0.###} vs {p.GetProperty("latencyMs").GetDouble():0.###} ms ({c.GetProperty("rows").GetInt32()} held-out rows)");
        if (evaluation.TryGetProperty("holdouts", out var parts) && parts.ValueKind == JsonValueKind.Array && parts.GetArrayLength() > 1)
        {
            // The last held-out file is the labelled field data the task split off: the shifted traffic.
            var field = parts[parts.GetArrayLength() - 1];
            text += string.Create(CultureInfo.InvariantCulture, $"; on the {field.GetProperty("rows").GetInt32()} held-out field readings alone: macro-F1 {field.GetProperty("candidate").GetProperty("f1").GetDouble():0.000} vs {field.GetProperty("current").GetProperty("f1").GetDouble():0.000}");
        }

        return text;
    }

    private void Record(string step, string detail)
    {
        var entry = new TimelineEntry(Math.Round(_clock.Elapsed.TotalSeconds, 1), step, detail);
        lock (_gate)
        {
            _timeline.Add(entry);
        }

        if (!_settings.Json)
        {
            AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"[grey]{entry.AtSeconds,6:0.0}s[/] [bold]{Markup.Escape(step)}[/] {Markup.Escape(detail)}"));
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

    private int Report(string? released, string work)
    {
        List<string> errors;
        List<JsonElement> events;
        lock (_gate)
        {
            errors = [.. _errors];
            events = [.. _lifecycleEvents];
        }

        var ok = errors.Count == 0 && released is not null && EventCount("refused") >= 1;
        var evaluated = events.LastOrDefault(e => e.GetProperty("event").GetString() == "evaluated");
        var refused = events.LastOrDefault(e => e.GetProperty("event").GetString() == "refused");
        var summary = new
        {
            ok,
            model = ModelName,
            devices = _devices.Select(d => new { id = d.Key, version = d.Value.Version, state = d.Value.State, drift = d.Value.Drift.ToDictionary(x => x.Key, x => new { state = x.Value.State, windows = x.Value.Windows, maxPsi = Math.Round(x.Value.MaxPsi, 4) }) }),
            firstVersion = FirstVersion,
            releasedVersion = released,
            retrainingsQueued = EventCount("queued"),
            driftAlerts = _alerts,
            evaluation = evaluated.ValueKind == JsonValueKind.Object && evaluated.TryGetProperty("evaluation", out var ev) ? ev : (JsonElement?)null,
            refused = refused.ValueKind == JsonValueKind.Object ? refused : (JsonElement?)null,
            rollout = _rollout is { } r ? new { r.Id, r.State, r.WaveSizes, r.CurrentWave, counts = r.Counts, r.ProbationSeconds } : null,
            inferences = Interlocked.Read(ref _inferences),
            inferenceErrors = Interlocked.Read(ref _inferenceErrors),
            lifecycleEvents = events.Select(e => e.GetProperty("event").GetString()),
            timeline = _timeline,
            workDirectory = _settings.Keep ? work : null,
            errors,
        };
        if (_settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(summary, Core.CoreJson.Options));
        }
        else
        {
            Console.WriteLine(ok
                ? string.Create(CultureInfo.InvariantCulture, $"lifecycle demo OK in {_clock.Elapsed.TotalSeconds:0} s: drift on {FirstVersion} → one retraining → {released} evaluated better, signed by two keys, rolled out canary-first → drift ok again; a worse candidate was refused")
                : $"lifecycle demo FAILED: {string.Join("; ", errors.DefaultIfEmpty("the loop did not complete"))}");
        }

        return ok ? ExitCodes.Ok : ExitCodes.DemoFailed;
    }

    private static async Task<(int Code, string Output)> RunToEndAsync(string file, string[] arguments, string directory, IReadOnlyDictionary<string, string> environment, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(file)} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds:0} s");
        }

        var output = new StringBuilder(await stdout).Append(await stderr).ToString();
        return (process.ExitCode, output);
    }

    private static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Temp files; the OS cleans them eventually.
        }
    }
}
