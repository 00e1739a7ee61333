using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using EdgeAgent.Agent;
using EdgeAgent.Agent.Serving;
using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Fleet.Mqtt;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

// Serving-path benchmark: each case runs the sample model; the baseline is ONNX Runtime called directly with
// pre-allocated OrtValues in this same process, so the ratios say what the agent's layers cost on this machine.
// Usage: dotnet run -c Release --project bench/EdgeAgent.Bench [-- --seconds N]
// Chunk pull throughput instead (ChunkPullBenchmark.cs): dotnet run -c Release --project bench/EdgeAgent.Bench -- chunks [--runs N]
// Serving overhead against bare ORT, issue 5 (ServingBenchmark.cs): ... -- serving [--seconds N] [--rounds N] [--plots DIR]
// Drift histogram update per value against a raw binary search, issue 6 (DriftBenchmark.cs): ... -- drift [--rounds N] [--passes N]
// Footprint and start-up of the published edge-agent builds under a fake systemd, issue 9 (FootprintBenchmark.cs):
//   ... -- footprint [--minutes N] [--builds fdd,sc,r2r] [--json FILE] [--svg FILE] [--starts N] [--published DIR]
// Outbox write and drain rates against LiteDB InsertBulk and MQTTnet QoS 1, issue 6 (OutboxBenchmark.cs): ... -- outbox [--rounds N]
// Fleet simulation, issue 9 (Fleet/FleetSimulation.cs): ... -- fleet [--devices 1000] [--fail 0.05] [--waves 1,10%,50%,100%] [--seed 1] [--success 0.95] [--abort 0.05] [--json FILE] [--quick]
if (args is ["fleet", ..])
{
    // 1,000 agents mean ~1,300 threads on 2 cores: thread-pool workers spinning before they sleep starved the process for
    // seconds at a time in some runs (the driver then lost its MQTT keep-alive). The spin limit is read when the runtime
    // starts, so the fleet command runs itself again with it unless it is set already (DOTNET_ThreadPool_UnfairSemaphoreSpinLimit).
    const string SpinLimit = "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit";
    if (Environment.GetEnvironmentVariable(SpinLimit) is null && Environment.ProcessPath is { } host)
    {
        var start = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            // "dotnet EdgeAgent.Bench.dll fleet ...": the muxer needs the entry assembly; the apphost does not.
            start.ArgumentList.Add(typeof(EdgeAgent.Bench.Fleet.FleetSimulation).Assembly.Location);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment[SpinLimit] = "0";
        using var child = Process.Start(start) ?? throw new InvalidOperationException("cannot start the fleet simulation");
        Console.CancelKeyPress += (_, e) => e.Cancel = true;
        await child.WaitForExitAsync();
        Environment.ExitCode = child.ExitCode;
        return;
    }

    var fleet = new EdgeAgent.Bench.Fleet.FleetOptions { Command = "dotnet run -c Release --project bench/EdgeAgent.Bench -- " + string.Join(' ', args) };
    for (var i = 1; i < args.Length; i++)
    {
        string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
        fleet = args[i] switch
        {
            "--devices" => fleet with { Devices = int.Parse(Next(), CultureInfo.InvariantCulture) },
            "--fail" => fleet with { Fail = double.Parse(Next(), CultureInfo.InvariantCulture) },
            "--waves" => fleet with { Waves = Next() },
            "--seed" => fleet with { Seed = int.Parse(Next(), CultureInfo.InvariantCulture) },
            "--json" => fleet with { JsonPath = Next() },
            "--success" => fleet with { SuccessThreshold = decimal.Parse(Next(), CultureInfo.InvariantCulture) },
            "--abort" => fleet with { AbortThreshold = decimal.Parse(Next(), CultureInfo.InvariantCulture) },
            "--quick" => fleet with { Devices = 200 },
            _ => throw new ArgumentException($"unknown option {args[i]}; usage: fleet [--devices N] [--fail F] [--waves SPEC] [--seed N] [--success F] [--abort F] [--json FILE] [--quick]"),
        };
    }

    using var stop = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        stop.Cancel();
    };
    await EdgeAgent.Bench.Fleet.FleetSimulation.RunAsync(fleet, stop.Token);
    return;
}

if (args is ["footprint", ..])
{
    Environment.ExitCode = await EdgeAgent.Bench.FootprintBenchmark.RunAsync(EdgeAgent.Bench.FootprintBenchmark.Parse(args));
    return;
}

if (args is ["chunks", ..])
{
    var runs = args is [_, "--runs", var n] ? int.Parse(n, CultureInfo.InvariantCulture) : 3;
    await EdgeAgent.Bench.ChunkPullBenchmark.RunAsync(runs);
    return;
}

if (args is ["drift", ..])
{
    var driftRounds = 5;
    var passes = 20;
    for (var i = 1; i + 1 < args.Length; i += 2)
    {
        switch (args[i])
        {
            case "--rounds":
                driftRounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                break;
            case "--passes":
                passes = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                break;
            default:
                throw new ArgumentException($"unknown option {args[i]}; usage: drift [--rounds N] [--passes N]");
        }
    }

    EdgeAgent.Bench.DriftBenchmark.Run(driftRounds, passes);
    return;
}

if (args is ["outbox", ..])
{
    var rounds = args is [_, "--rounds", var r] ? int.Parse(r, CultureInfo.InvariantCulture) : 3;
    await EdgeAgent.Bench.OutboxBenchmark.RunAsync(rounds);
    return;
}

if (args is ["serving", ..])
{
    var blockSeconds = 1.0;
    var rounds = 3;
    string? plots = null;
    for (var i = 1; i + 1 < args.Length; i += 2)
    {
        switch (args[i])
        {
            case "--seconds":
                blockSeconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture);
                break;
            case "--rounds":
                rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                break;
            case "--plots":
                plots = args[i + 1];
                break;
            default:
                throw new ArgumentException($"unknown option {args[i]}; usage: serving [--seconds N] [--rounds N] [--plots DIR]");
        }
    }

    await EdgeAgent.Bench.ServingBenchmark.RunAsync(blockSeconds, rounds, plots);
    return;
}

var seconds = args.Length == 2 && args[0] == "--seconds" ? double.Parse(args[1], CultureInfo.InvariantCulture) : 2.0;
var model = Path.Combine(AppContext.BaseDirectory, "samples", "vibration.onnx");
var requestBytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "samples", "request.json"));
var results = new List<(string Name, double MedianMicros, double P99Micros, long Runs)>();

Console.WriteLine($"EdgeAgent serving benchmark: {Environment.ProcessorCount} cores, {RuntimeInformationText()}, {seconds:0.#}s per case");

// 1. Baseline: ONNX Runtime directly, pre-allocated input, one thread.
using (var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 })
using (var session = new InferenceSession(model, options))
{
    var data = new float[3 * 8];
    for (var i = 0; i < data.Length; i++)
    {
        data[i] = i % 8 * 0.3f;
    }

    using var input = OrtValue.CreateTensorValueFromMemory(data, [3, 8]);
    using var runOptions = new RunOptions();
    string[] inputNames = ["features"];
    string[] outputNames = ["probabilities", "label"];
    OrtValue[] inputs = [input];
    results.Add(Measure("ORT direct (baseline)", seconds, () =>
    {
        using var outputs = session.Run(runOptions, inputNames, inputs, outputNames);
    }));
}

// 2. The agent's inference path without transport: parse v2 JSON, validate, run, write v2 JSON.
using (var catalog = new ModelCatalog())
{
    catalog.Activate(OnnxModel.Load("vibration", "1.0.0", model));
    var runner = new InferenceRunner(catalog, new InferenceMeter(TimeProvider.System));
    var buffer = new System.Buffers.ArrayBufferWriter<byte>(4096);
    results.Add(Measure("agent JSON path (no transport)", seconds, () =>
    {
        buffer.ResetWrittenCount();
        using var doc = JsonDocument.Parse(requestBytes);
        using var writer = new Utf8JsonWriter(buffer);
        runner.Infer("vibration", doc.RootElement, writer);
    }));
}

// 3. End to end: HTTP over the agent's unix socket, with a real agent (embedded broker, LiteDB outbox, metering).
var work = Directory.CreateTempSubdirectory("edgeagent-bench-").FullName;
try
{
    await using var broker = await EmbeddedBroker.StartAsync();
    var agent = EdgeAgent.Bench.BenchAgent.Build(work, "bench-1", broker.Url, out var socket);
    await using (agent)
    {
        await agent.StartAsync();
        var catalog = (ModelCatalog)agent.Services.GetService(typeof(ModelCatalog))!;
        catalog.Activate(OnnxModel.Load("vibration", "1.0.0", model));
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
                return new NetworkStream(s, ownsSocket: true);
            },
        })
        { BaseAddress = new Uri("http://localhost") };
        results.Add(Measure("HTTP over unix socket (agent)", seconds, () =>
        {
            using var content = new ByteArrayContent(requestBytes);
            using var response = http.PostAsync("/v2/models/vibration/infer", content).GetAwaiter().GetResult();
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"agent answered {(int)response.StatusCode}");
            }
        }));

        // 4. Outbox: one metrics record per window into LiteDB (the telemetry write path).
        var outbox = (Outbox)agent.Services.GetService(typeof(Outbox))!;
        var payload = new string('x', 300);
        results.Add(Measure("outbox enqueue (LiteDB record)", seconds / 2, () => outbox.Enqueue(OutboxClass.Metrics, "bench", seq => new { seq, payload })));
        await agent.StopAsync();
    }
}
finally
{
    Directory.Delete(work, recursive: true);
}

// 5. Bundle verification throughput on a 100 MB file, against sha256sum of the same file (issue 3 wants >= 0.9x).
var verifyDir = Directory.CreateTempSubdirectory("edgeagent-bench-verify-").FullName;
try
{
    var blob = Path.Combine(verifyDir, "model.onnx");
    var random = new Random(7);
    using (var stream = File.Create(blob))
    {
        var block = new byte[1 << 20];
        for (var i = 0; i < 100; i++)
        {
            random.NextBytes(block);
            stream.Write(block);
        }
    }

    using var signer = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
    EdgeAgent.Core.Bundles.BundleFileEntry entry;
    using (var stream = File.OpenRead(blob))
    {
        entry = EdgeAgent.Core.Bundles.ChunkTable.Describe("model.onnx", stream);
    }

    var manifest = new EdgeAgent.Core.Bundles.BundleManifest { Name = "big", Version = "1.0.0", Created = DateTimeOffset.UtcNow, Model = "model.onnx", Files = [entry] };
    var envelope = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(EdgeAgent.Core.Bundles.ManifestSigner.Sign(manifest, [signer]), EdgeAgent.Core.CoreJson.Options);
    var bundle = Path.Combine(verifyDir, "big-1.0.0.edgebundle");
    EdgeAgent.Core.Bundles.BundleArchive.Write(bundle, envelope, [("model.onnx", blob)]);
    using var trust = new EdgeAgent.Core.Bundles.TrustedKeys();
    trust.AddPem(signer.ExportSubjectPublicKeyInfoPem());

    double Best(Action action)
    {
        var best = double.MaxValue;
        for (var i = 0; i < 3; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            action();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }

        return best;
    }

    var verifySeconds = Best(() => EdgeAgent.Fleet.Bundles.BundleFileVerifier.Verify(bundle, trust, DateTimeOffset.UtcNow));
    var sha256sumSeconds = Best(() =>
    {
        using var p = Process.Start(new ProcessStartInfo("sha256sum", [blob]) { RedirectStandardOutput = true })!;
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
    });
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"verify 100 MB bundle: {100 / verifySeconds:0} MB/s; sha256sum: {100 / sha256sumSeconds:0} MB/s; ratio {sha256sumSeconds / verifySeconds:0.00}x of sha256sum"));
}
finally
{
    Directory.Delete(verifyDir, recursive: true);
}

var baseline = results[0].MedianMicros;
Console.WriteLine();
Console.WriteLine($"{"case",-34} {"median µs",10} {"p99 µs",10} {"runs",9} {"× baseline",11}");
foreach (var (name, median, p99, runs) in results)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-34} {median,10:0.0} {p99,10:0.0} {runs,9} {median / baseline,11:0.0}"));
}

static (string, double, double, long) Measure(string name, double seconds, Action action)
{
    for (var i = 0; i < 200; i++)
    {
        action();
    }

    var samples = new List<double>(100_000);
    var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
    while (Stopwatch.GetTimestamp() < until && samples.Count < 2_000_000)
    {
        var t0 = Stopwatch.GetTimestamp();
        action();
        samples.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
    }

    samples.Sort();
    return (name, samples[samples.Count / 2], samples[(int)(samples.Count * 0.99)], samples.Count);
}

static string RuntimeInformationText() =>
    new StringBuilder().Append(System.Runtime.InteropServices.RuntimeInformation.OSArchitecture).Append(", .NET ").Append(Environment.Version).ToString();
