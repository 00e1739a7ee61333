using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using EdgeAgent.Agent;
using EdgeAgent.Agent.Serving;
using EdgeAgent.Core.Mqtt;
using EdgeAgent.Fleet.Bundles;
using EdgeAgent.Fleet.Keys;
using EdgeAgent.Fleet.Mqtt;
using EdgeAgent.Fleet.Rollouts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Bench.Fleet;

/// <summary>Settings of one fleet simulation run.</summary>
public sealed record FleetOptions
{
    public int Devices { get; init; } = 1000;

    /// <summary>Share of devices (seeded choice) of another device type, which the failure scenario's bundle refuses; 0 skips that scenario.</summary>
    public double Fail { get; init; } = 0.05;

    public string Waves { get; init; } = "1,10%,50%,100%";

    public int Seed { get; init; } = 1;

    public string? JsonPath { get; init; }

    /// <summary>The ~1 MB model of the new version; null: made with bench/models/make_matmul1mb.py.</summary>
    public string? ModelPath { get; init; }

    /// <summary>The model of the failure scenario's version (another file, so devices download it); null: made with make_matmul1mb.py, another seed.</summary>
    public string? FailureModelPath { get; init; }

    /// <summary>The rollout's success threshold per wave (the driver's default 0.95).</summary>
    public decimal SuccessThreshold { get; init; } = 0.95m;

    /// <summary>The rollout's abort threshold over the devices targeted so far (the driver's default 0.05).</summary>
    public decimal AbortThreshold { get; init; } = 0.05m;

    public int StartBatch { get; init; } = 50;

    public TimeSpan WaveTimeout { get; init; } = TimeSpan.FromSeconds(120);

    public TimeSpan ProgressEvery { get; init; } = TimeSpan.FromSeconds(2);

    public string Command { get; init; } = "fleet";

    public Action<string> Output { get; init; } = Console.WriteLine;
}

/// <summary>
/// N simulated devices in one process, each a real agent host, against one mosquitto: an untimed setup (a small
/// v1.0.0 Active everywhere), then a timed staged rollout of a ~1 MB v1.1.0 to all, then (with a failing share) a
/// rollout of v1.2.0 signed for a device type that share does not have. Only ONNX Runtime sessions are shared.
/// </summary>
public static class FleetSimulation
{
    public const string Model = "vibration";
    private const string GoodType = "type-a";
    private const string BadType = "type-b";

    public static async Task<FleetResult> RunAsync(FleetOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var say = options.Output;
        // 14 hosted loops per device and synchronous work (fsync, LiteDB, ORT) on the pool: without this the pool grows
        // slowly, MQTT acks are late and sessions time out.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 256), Math.Max(io, 256));
        // CreateSlimBuilder adds appsettings.json with reload-on-change, one inotify instance per host (the agent then
        // drops that source); the default limit is 128 per user, so more hosts than that fail to build without this.
        Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");

        var shm = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var root = Path.Combine(shm, $"edgeagent-fleet-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");
        Directory.CreateDirectory(root);
        var clock = Stopwatch.StartNew();
        double Now() => clock.Elapsed.TotalSeconds;
        var loadStart = LoadAverage();
        var logs = new CountingLoggerProvider();
        var devices = new List<SimulatedDevice>();
        try
        {
            await using var broker = await MosquittoProcess.StartAsync(root);
            say($"fleet: {options.Devices} devices, fail {options.Fail:0.###}, waves {options.Waves}, seed {options.Seed}, success {options.SuccessThreshold} abort {options.AbortThreshold}; thread-pool spin limit {SpinLimit()}; mosquitto pid {broker.Pid} on {broker.Port} (nofile {broker.OpenFileLimit}); state under {root}; load {loadStart}");
            var keys = SigningKeys.Generate(Path.Combine(root, "keys"), "release");
            var loader = new SharedSessionLoader();
            var small = Path.Combine(AppContext.BaseDirectory, "samples", "vibration.onnx");
            var big = options.ModelPath ?? MakeModel(root, 512);

            // Seeded choice of the failing devices.
            var failCount = (int)Math.Round(options.Devices * options.Fail);
            var order = Enumerable.Range(0, options.Devices).ToArray();
            new Random(options.Seed).Shuffle(order);
            var failing = order.Take(failCount).ToHashSet();

            // Start the devices in batches, each waiting to be connected (no connect burst into the listen backlog).
            for (var first = 0; first < options.Devices; first += options.StartBatch)
            {
                var batch = Enumerable.Range(first, Math.Min(options.StartBatch, options.Devices - first)).ToArray();
                var started = await Task.WhenAll(batch.Select(i => Task.Run(async () =>
                {
                    var device = Build(i, failing.Contains(i), root, broker.Url, keys.PublicKeyPath, loader, logs, Now);
                    await device.Host.StartAsync(cancellationToken);
                    return device;
                }, cancellationToken)));
                devices.AddRange(started);
                await WaitUntilAsync(() => started.All(d => d.Mqtt.IsConnected), TimeSpan.FromSeconds(60), "devices to connect", cancellationToken);
                if ((first + batch.Length) % 200 == 0 || first + batch.Length == options.Devices)
                {
                    say(Line($"  started {first + batch.Length}/{options.Devices} agents ({Now():0.0} s; process RSS {MiB(Environment.WorkingSet)}, GC heap {MiB(GC.GetTotalMemory(false))})"));
                }
            }

            var startSeconds = Now();
            await using var op = await FleetConnection.ConnectAsync(broker.Url, clientId: "fleet-operator", cancellationToken: cancellationToken);

            // Untimed setup: v1.0.0 (the small sample) Active everywhere; every device then has a retained desired document.
            var setupStart = Now();
            var v1 = Bundle(root, keys, small, "1.0.0", []);
            await BundlePublisher.PublishAsync(op, v1.Path, null, null, cancellationToken);
            var desired = Encoding.UTF8.GetBytes($$"""{"models":[{"name":"{{Model}}","version":"1.0.0"}]}""");
            await Parallel.ForEachAsync(devices, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken }, async (d, ct) => await DesiredStateWriter.PublishAsync(op, d.Id, desired, ct));
            await WaitUntilAsync(() => devices.All(d => d.IsActive("1.0.0")), TimeSpan.FromSeconds(300), "1.0.0 Active on all devices", cancellationToken, () => $"{devices.Count(d => d.IsActive("1.0.0"))} Active");
            var setupSeconds = Now() - setupStart;
            say(Line($"setup: 1.0.0 Active on {devices.Count} devices after {setupSeconds:0.0} s (untimed); ORT sessions created so far {loader.SessionsCreated}"));

            // What 1000 idle agents cost: the process's CPU over 5 s with nothing to do.
            var cpu0 = Environment.CpuUsage.TotalTime;
            await Task.Delay(5000, cancellationToken);
            var idleCpuPercent = (Environment.CpuUsage.TotalTime - cpu0).TotalSeconds / 5 * 100;
            say(Line($"idle: agents process CPU {idleCpuPercent:0}% of one core over 5 s, {Threads()} threads, RSS {MiB(Environment.WorkingSet)}"));

            var scenarios = new List<ScenarioResult>();
            var update = Bundle(root, keys, big, "1.1.0", []);
            scenarios.Add(await RolloutAsync("rollout", "r-fleet-1", update, [], devices, broker, op, options, Now, cancellationToken));
            if (failCount > 0)
            {
                var typed = Bundle(root, keys, options.FailureModelPath ?? MakeModel(root, 513), "1.2.0", [GoodType]);
                scenarios.Add(await RolloutAsync("failure", "r-fleet-2", typed, [GoodType], devices, broker, op, options, Now, cancellationToken));
            }

            var result = new FleetResult
            {
                Command = options.Command,
                Machine = $"{Environment.ProcessorCount} cores {System.Runtime.InteropServices.RuntimeInformation.OSArchitecture}, {MemTotal()}, .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
                Devices = options.Devices,
                FailingDevices = failCount,
                Seed = options.Seed,
                Waves = options.Waves,
                SuccessThreshold = options.SuccessThreshold,
                AbortThreshold = options.AbortThreshold,
                ThreadPoolSpinLimit = SpinLimit(),
                StateDirectory = shm,
                BrokerOpenFileLimit = broker.OpenFileLimit,
                StartSeconds = startSeconds,
                SetupSeconds = setupSeconds,
                LoadAverageStart = loadStart,
                LoadAverageEnd = LoadAverage(),
                OrtSessionsCreated = loader.SessionsCreated,
                IdleCpuPercentOfOneCore = Math.Round(idleCpuPercent, 1),
                ProcessPeakRssBytes = MosquittoProcess.ProcMemory(Environment.ProcessId).Peak,
                AgentWarnings = logs.Warnings,
                AgentErrors = logs.Errors,
                LastAgentErrors = logs.Last(),
                Scenarios = scenarios,
            };
            FleetReport.Write(result, options.JsonPath, say);
            return result;
        }
        finally
        {
            say(Line($"stopping {devices.Count} agents ..."));
            foreach (var chunk in devices.Chunk(100))
            {
                await Task.WhenAll(chunk.Select(async d =>
                {
                    try
                    {
                        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                        await d.Host.StopAsync(stop.Token);
                        await d.Host.DisposeAsync();
                    }
                    catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
                    {
                        // Shutting down: best effort.
                    }
                }));
            }

            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // Best effort.
            }
        }
    }

    private static async Task<ScenarioResult> RolloutAsync(string name, string id, BundleBuilder.Result bundle, IReadOnlyList<string> types, List<SimulatedDevice> devices, MosquittoProcess broker, FleetConnection op, FleetOptions options, Func<double> now, CancellationToken cancellationToken)
    {
        var say = options.Output;
        var version = bundle.Manifest.Version;
        var bundleBytes = new FileInfo(bundle.Path).Length;
        var modelBytes = bundle.Manifest.ModelFile?.Length ?? 0;
        say(Line($"{name}: {Model} {version} ({bundleBytes / 1024.0:0} KiB bundle{(types.Count > 0 ? $", device types {string.Join(',', types)}; {devices.Count(d => d.Failing)} devices are {BadType}" : "")}) to {devices.Count} devices, waves {options.Waves}"));
        var publishStart = now();
        await BundlePublisher.PublishAsync(op, bundle.Path, null, null, cancellationToken);
        var publishSeconds = now() - publishStart;

        var wireBefore = await WireBytes.SnapshotAsync(broker.Port);
        var chunksBefore = devices.ToDictionary(d => d.Id, d => d.Fetcher.BytesReceived);
        var reconnectsBefore = devices.Sum(d => d.Mqtt.Reconnects);
        var cpuBefore = broker.CpuSeconds();
        var brokerPeak = 0L;
        var processPeak = 0L;
        var progress = new List<double[]>();
        var waves = new List<(int Wave, double Started)>();
        var t0 = now();
        var t0Wall = DateTimeOffset.UtcNow;
        var current = 0;
        double? abortedAt = null;

        await using var connection = await FleetConnection.ConnectWithWillAsync(broker.Url, Topics.DefaultPrefix, null, null, new Topics(Topics.DefaultPrefix).RolloutDriver(id), [], cancellationToken: cancellationToken);
        using var driver = new RolloutDriver(connection, id, RolloutDriver.NewWriter());
        RolloutDocument? lastSeen = null;
        driver.Progress += (doc, line) =>
        {
            lastSeen = doc;
            if (doc.CurrentWave != Volatile.Read(ref current))
            {
                Volatile.Write(ref current, doc.CurrentWave);
                lock (waves)
                {
                    waves.Add((doc.CurrentWave, now() - t0));
                }
            }

            if (line.StartsWith("aborting", StringComparison.Ordinal))
            {
                abortedAt ??= now() - t0;
            }

            // Per-device lines would be thousands: only the rollout's own lines.
            if (!(line.Length > 5 && line[0] == 'd' && char.IsAsciiDigit(line[1]) && line[5] == ':') || line.Contains("failed", StringComparison.Ordinal))
            {
                say(Line($"  [{now() - t0,6:0.0} s] {line}"));
            }
        };

        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sampler = Task.Run(async () =>
        {
            var lastSay = 0.0;
            var lastCpu = cpuBefore;
            var lastOwn = Environment.CpuUsage.TotalTime.TotalSeconds;
            var lastT = 0.0;
            while (!stopSampling.IsCancellationRequested)
            {
                var t = now() - t0;
                var active = devices.Count(d => d.IsActive(version));
                var (rss, _) = broker.Memory();
                var mine = Environment.WorkingSet;
                brokerPeak = Math.Max(brokerPeak, rss);
                processPeak = Math.Max(processPeak, mine);
                var cpu = broker.CpuSeconds();
                lock (progress)
                {
                    progress.Add([Math.Round(t, 2), active]);
                }

                if (t - lastSay >= options.ProgressEvery.TotalSeconds)
                {
                    var cpuShare = t > lastT ? (cpu - lastCpu) / (t - lastT) * 100 : 0;
                    var own = Environment.CpuUsage.TotalTime.TotalSeconds;
                    var ownShare = t > lastT ? (own - lastOwn) / (t - lastT) * 100 : 0;
                    say(Line($"  [{t,6:0.0} s] wave {Volatile.Read(ref current)}: {active}/{devices.Count} Active on {version}; broker CPU {cpuShare:0}% RSS {MiB(rss)}; agents CPU {ownShare:0}% RSS {MiB(mine)} threads {Threads()} gen2 GCs {GC.CollectionCount(2)}; load {LoadAverage()}"));
                    lastSay = t;
                    lastOwn = own;
                    lastCpu = cpu;
                    lastT = t;
                }

                try
                {
                    await Task.Delay(250, stopSampling.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }, CancellationToken.None);

        var request = new RolloutRequest
        {
            Id = id,
            Model = Model,
            Version = version,
            Targets = [.. devices.Select(d => d.Id)],
            Waves = WavePlan.Parse(options.Waves),
            Probation = TimeSpan.Zero,
            WaveTimeout = options.WaveTimeout,
            SuccessThreshold = options.SuccessThreshold,
            AbortThreshold = options.AbortThreshold,
        };
        var doc = await driver.CreateAsync(request, cancellationToken);
        string? driverError = null;
        try
        {
            doc = await driver.DriveAsync(doc, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && (ex is IOException or OperationCanceledException || ex.GetType().Namespace == "MQTTnet.Exceptions"))
        {
            // E.g. the driver's connection lost when this process starved past the MQTT keep-alive: report what was reached.
            driverError = $"{ex.GetType().Name}: {ex.Message}";
            doc = lastSeen ?? doc;
            say(Line($"  [{now() - t0,6:0.0} s] the driver stopped: {driverError}"));
        }

        var driverSeconds = now() - t0;
        double? rollbackSeconds = null;
        var restored = doc.Devices.Where(kv => kv.Value.Restored == true).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
        if (doc.State == RolloutStates.Aborted && restored.Count > 0)
        {
            // The restored devices go back to what they ran before (the previous scenario's version, kept on disk).
            var back = devices.Where(d => restored.Contains(d.Id)).ToList();
            var previous = back.Select(d => d.ActiveVersion).FirstOrDefault(v => v != version) ?? "1.1.0";
            await WaitUntilAsync(() => back.All(d => d.IsActive(previous)), TimeSpan.FromSeconds(120), $"restored devices Active on {previous}", cancellationToken, () => $"{back.Count(d => d.IsActive(previous))}/{back.Count}");
            rollbackSeconds = now() - t0 - (abortedAt ?? driverSeconds);
            say(Line($"  [{now() - t0,6:0.0} s] {back.Count} restored devices Active on {previous} again, {rollbackSeconds:0.0} s after the abort decision"));
        }

        // One more sample after the end, then stop sampling.
        await Task.Delay(300, cancellationToken);
        await stopSampling.CancelAsync();
        await sampler;
        var cpuSeconds = broker.CpuSeconds() - cpuBefore;
        var wireAfter = await WireBytes.SnapshotAsync(broker.Port);

        // The devices that downloaded the version in this scenario (a restored device is no longer "succeeded").
        var updated = devices.Where(d => d.Fetcher.BytesReceived > chunksBefore[d.Id]).ToList();
        var activeTimes = devices.Select(d => d.ActiveAt(version)).OfType<double>().Select(t => t - t0).Where(t => t >= 0).Order().ToArray();
        var wireReceived = new List<long>();
        var wireSent = new List<long>();
        var portsById = wireAfter.Keys.Select(p => (Port: p, Id: broker.ClientOf(p))).Where(x => x.Id is not null).GroupBy(x => x.Id!).ToDictionary(g => g.Key, g => g.Select(x => x.Port).ToList(), StringComparer.Ordinal);
        foreach (var d in updated)
        {
            // A device that reconnected during the run lost its old socket's counts: left out (reconnects are reported).
            if (portsById.TryGetValue($"edge-agent-{d.Id}", out var ports) && ports.Count == 1 && wireBefore.TryGetValue(ports[0], out var before))
            {
                var after = wireAfter[ports[0]];
                wireReceived.Add(after.Received - before.Received);
                wireSent.Add(after.Sent - before.Sent);
            }
        }

        var waveTimes = new List<WaveResult>();
        lock (waves)
        {
            foreach (var (wave, started) in waves.Where(w => w.Wave > 0))
            {
                var members = doc.Devices.Where(kv => kv.Value.Wave == wave).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
                var last = devices.Where(d => members.Contains(d.Id)).Select(d => d.ActiveAt(version)).OfType<double>().Select(t => t - t0).DefaultIfEmpty(double.NaN).Max();
                waveTimes.Add(new WaveResult(wave, members.Count, Math.Round(started, 2), double.IsNaN(last) ? null : Math.Round(last, 2)));
            }
        }

        var counts = doc.Counts;
        var result = new ScenarioResult
        {
            Name = name,
            Version = version,
            DeviceTypes = types,
            BundleBytes = bundleBytes,
            ModelBytes = modelBytes,
            PublishSeconds = Math.Round(publishSeconds, 3),
            State = driverError is null ? doc.State : $"driver stopped in state {doc.State}",
            Reason = driverError ?? doc.Reason,
            FinalWave = doc.CurrentWave,
            DriverSeconds = Math.Round(driverSeconds, 2),
            AllActiveSeconds = activeTimes.Length == devices.Count ? Math.Round(activeTimes[^1], 2) : null,
            Active = devices.Count(d => d.IsActive(version)),
            Failed = counts.Failed,
            Targeted = counts.TargetedSoFar,
            P50DeviceSeconds = PerDevice(doc, devices, version, t0, t0Wall, 0.5),
            P95DeviceSeconds = PerDevice(doc, devices, version, t0, t0Wall, 0.95),
            WaveTimes = waveTimes,
            FailureReasons = [.. doc.Devices.Values.Where(v => v.Status == RolloutDeviceStatus.Failed).GroupBy(v => v.Reason ?? "?").Select(g => $"{g.Count()} × {g.Key}")],
            AbortedSeconds = abortedAt is { } ab ? Math.Round(ab, 2) : null,
            Restored = doc.State == RolloutStates.Aborted ? restored.Count : null,
            RollbackSeconds = rollbackSeconds is { } r ? Math.Round(r, 2) : null,
            BrokerCpuSeconds = Math.Round(cpuSeconds, 2),
            BrokerCpuPercentOfOneCore = Math.Round(cpuSeconds / Math.Max(driverSeconds, 0.001) * 100, 1),
            BrokerPeakRssBytes = Math.Max(brokerPeak, broker.Memory().Rss),
            ProcessPeakRssBytes = processPeak,
            Reconnects = devices.Sum(d => d.Mqtt.Reconnects) - reconnectsBefore,
            WireReceivedPerDevice = Distribution.Of(wireReceived),
            WireSentPerDevice = Distribution.Of(wireSent),
            WireDevicesMeasured = wireReceived.Count,
            ChunkPayloadPerDevice = Distribution.Of([.. updated.Select(d => d.Fetcher.BytesReceived - chunksBefore[d.Id])]),
            WireRatioMax = wireReceived.Count > 0 ? Math.Round((double)wireReceived.Max() / bundleBytes, 4) : null,
            WireRatioMedian = wireReceived.Count > 0 ? Math.Round((double)Distribution.Of(wireReceived).Median / bundleBytes, 4) : null,
            WireRatioToModelMax = wireReceived.Count > 0 && modelBytes > 0 ? Math.Round((double)wireReceived.Max() / modelBytes, 4) : null,
            Progress = progress,
        };
        say(Line($"{name}: {doc.State}{(doc.Reason is null ? "" : $" ({doc.Reason})")} after {driverSeconds:0.0} s; {result.Active}/{devices.Count} Active on {version}; broker CPU {cpuSeconds:0.0} s"));
        return result;
    }

    /// <summary>Per-device time from being targeted (its wave's start) to Active, as a quantile over the updated devices.</summary>
    private static double? PerDevice(RolloutDocument doc, List<SimulatedDevice> devices, string version, double t0, DateTimeOffset t0Wall, double q)
    {
        var times = new List<double>();
        foreach (var d in devices)
        {
            if (doc.Devices[d.Id].Targeted is { } targeted && d.ActiveAt(version) is { } at)
            {
                var targetedAt = (targeted - t0Wall).TotalSeconds;
                times.Add(at - t0 - targetedAt);
            }
        }

        if (times.Count == 0)
        {
            return null;
        }

        times.Sort();
        return Math.Round(times[Math.Min(times.Count - 1, (int)(q * times.Count))], 3);
    }

    private static SimulatedDevice Build(int index, bool failing, string root, string brokerUrl, string publicKey, SharedSessionLoader loader, CountingLoggerProvider logs, Func<double> now)
    {
        var id = $"d{index:0000}";
        var dir = Path.Combine(root, "devices", id);
        var type = failing ? BadType : GoodType;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agent:DeviceId"] = id,
            ["Agent:DeviceType"] = type,
            ["Agent:StateDirectory"] = Path.Combine(dir, "state"),
            ["Agent:ApiSocket"] = Path.Combine(dir, "api.sock"),
            ["Agent:RetryIntervalSeconds"] = "2",
            ["Agent:ProbationSeconds"] = "0",
            ["Mqtt:Url"] = brokerUrl,
            ["Mqtt:MaxReconnectDelaySeconds"] = "5",
            ["Trust:PublicKeys:0"] = publicKey,
            ["Telemetry:WindowSeconds"] = "60",
            ["Telemetry:HealthIntervalSeconds"] = "60",
        }).Build();
        var host = AgentHost.Build(
            configuration,
            logging =>
            {
                logging.ClearProviders();
                logging.SetMinimumLevel(LogLevel.Warning);
                logging.AddProvider(logs);
            },
            configure: services => services.AddSingleton<IModelLoader>(loader));
        return new SimulatedDevice(id, type, failing, host, Model, now);
    }

    private static BundleBuilder.Result Bundle(string root, SigningKeys.KeyPairFiles keys, string model, string version, IReadOnlyList<string> types)
    {
        using var key = SigningKeys.LoadPrivate(keys.PrivateKeyPath);
        return BundleBuilder.Create(new BundleBuilder.Request
        {
            ModelPath = model,
            Name = Model,
            Version = version,
            Keys = [key],
            DeviceTypes = types,
            OutPath = Path.Combine(root, $"{Model}-{version}.edgebundle"),
        });
    }

    /// <summary>Runs bench/models/make_matmul1mb.py (Debian's python3-onnx) into <paramref name="root"/>.</summary>
    public static string MakeModel(string root, int seed)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "models", "make_matmul1mb.py");
        var output = Path.Combine(root, $"matmul1mb-{seed}.onnx");
        using var python = Process.Start(new ProcessStartInfo("/usr/bin/python3", [script, output, seed.ToString(CultureInfo.InvariantCulture)]) { RedirectStandardError = true, UseShellExecute = false })
            ?? throw new InvalidOperationException("cannot run /usr/bin/python3");
        var error = python.StandardError.ReadToEnd();
        python.WaitForExit();
        if (python.ExitCode != 0 || !File.Exists(output))
        {
            throw new InvalidOperationException($"make_matmul1mb.py failed (needs python3-onnx and python3-numpy under /usr/bin/python3): {error}");
        }

        return output;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what, CancellationToken cancellationToken, Func<string>? state = null)
    {
        var until = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (!condition())
        {
            if (Stopwatch.GetTimestamp() > until)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0} s waiting for {what}{(state is null ? "" : $" ({state()})")}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private static string SpinLimit() => Environment.GetEnvironmentVariable("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit") ?? "default";

    private static string Threads() =>
        File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Threads:", StringComparison.Ordinal))?.Split('\t', ' ').Last() ?? "?";

    internal static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static string MemTotal()
    {
        var line = File.Exists("/proc/meminfo") ? File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)) : null;
        return line is null ? "? RAM" : $"{long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024 / 1024.0:0.0} GiB RAM";
    }

    internal static string MiB(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0} MiB");

    private static string Line(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
