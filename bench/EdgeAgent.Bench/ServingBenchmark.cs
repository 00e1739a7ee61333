using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using EdgeAgent.Agent;
using EdgeAgent.Agent.Serving;
using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Fleet.Mqtt;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeAgent.Bench;

/// <summary>
/// Serving overhead against bare ONNX Runtime (issue 5). One real agent runs in-process (embedded broker, unix socket
/// API); its catalog serves the sample model (1x8) and, when /usr/bin/python3 has onnx and numpy, a generated conv model
/// (1x3x224x224). The baseline is <c>InferenceSession.Run</c> with pre-allocated input and output OrtValues on the very
/// session the agent serves, with the same input values. Each comparison alternates baseline and candidate blocks
/// (<c>rounds</c> times) and prints every round, because the machine is shared.
/// </summary>
internal static class ServingBenchmark
{
    private const int Clients = 16;

    public static async Task RunAsync(double seconds, int rounds, string? plots = null)
    {
        var work = Directory.CreateTempSubdirectory("edgeagent-bench-serving-").FullName;
        try
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"serving benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}, ONNX Runtime {OrtEnv.Instance().GetVersionString()}, {seconds:0.#} s per block, {rounds} rounds interleaved"));
            var vibrationPath = Path.Combine(AppContext.BaseDirectory, "samples", "vibration.onnx");
            var convPath = MakeModel(work, "make_conv224.py", "conv224.onnx");
            var mobilenetPath = MakeModel(work, "make_mobilenet224.py", "mobilenet224.onnx");

            await using var broker = await EmbeddedBroker.StartAsync();
            var agent = BenchAgent.Build(work, "bench-serving", broker.Url, out var socket);
            await using (agent)
            {
                await agent.StartAsync();
                var catalog = (ModelCatalog)agent.Services.GetService(typeof(ModelCatalog))!;
                var meter = (InferenceMeter)agent.Services.GetService(typeof(InferenceMeter))!;
                var runner = (InferenceRunner)agent.Services.GetService(typeof(InferenceRunner))!;
                using var http = UnixHttpClient(socket);

                var summary = new List<string>();
                using (var vibration = new Case(catalog, meter, "vibration", vibrationPath, [1, 8], i => i % 8 * 0.3f + 0.1f))
                {
                    vibration.Run(runner, http, seconds, rounds, summary, inProcessAllocations: true, plots is null ? null : Path.Combine(plots, "serving-latency-1x8.svg"));
                    await ConcurrentAsync(http, vibration, seconds, rounds, summary);
                }

                if (convPath is null)
                {
                    summary.Add("1x3x224x224: SKIPPED (no /usr/bin/python3 with onnx and numpy to generate bench/models/make_conv224.py's model)");
                }
                else
                {
                    using var conv = new Case(catalog, meter, "conv224", convPath, [1, 3, 224, 224], i => i % 251 / 251f);
                    conv.Run(runner, http, seconds, rounds, summary, inProcessAllocations: false);
                }

                if (mobilenetPath is null)
                {
                    summary.Add("MobileNet v1 1x3x224x224: SKIPPED (no /usr/bin/python3 with onnx and numpy to generate bench/models/make_mobilenet224.py's model)");
                }
                else
                {
                    using var mobilenet = new Case(catalog, meter, "mobilenet224", mobilenetPath, [1, 3, 224, 224], i => i % 251 / 251f);
                    mobilenet.Run(runner, http, seconds, rounds, summary, inProcessAllocations: false, plots is null ? null : Path.Combine(plots, "serving-latency-mobilenet224.svg"));
                }

                Console.WriteLine();
                Console.WriteLine("summary (medians of the per-round values; targets from issue 5):");
                foreach (var line in summary)
                {
                    Console.WriteLine("  " + line);
                }

                foreach (var totals in meter.Totals())
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  agent meter: {totals.Model} counted {totals.Requests} requests, {totals.Errors} errors"));
                }

                await agent.StopAsync();
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Runs bench/models/<paramref name="script"/> into <paramref name="work"/>; null (and says why) when it cannot.</summary>
    private static string? MakeModel(string work, string script, string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "models", script);
        var output = Path.Combine(work, file);
        if (!File.Exists("/usr/bin/python3"))
        {
            Console.WriteLine($"{file} case skipped: /usr/bin/python3 is missing (apt-get install python3-onnx python3-numpy)");
            return null;
        }

        using var python = Process.Start(new ProcessStartInfo("/usr/bin/python3", [path, output]) { RedirectStandardError = true })!;
        var error = python.StandardError.ReadToEnd();
        python.WaitForExit();
        if (python.ExitCode != 0 || !File.Exists(output))
        {
            Console.WriteLine($"{file} case skipped: {path} failed (needs python3-onnx and python3-numpy): {error.Trim().Split('\n')[^1]}");
            return null;
        }

        return output;
    }

    private static HttpClient UnixHttpClient(string socket) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, ct) =>
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
                return new NetworkStream(s, ownsSocket: true);
            }
            catch
            {
                s.Dispose();
                throw;
            }
        },
    })
    { BaseAddress = new Uri("http://localhost") };

    private static async Task ConcurrentAsync(HttpClient http, Case model, double seconds, int rounds, List<string> summary)
    {
        Console.WriteLine();
        Console.WriteLine($"{Clients} concurrent clients over the unix socket, {model.Name} {model.ShapeText}, {seconds:0.#} s per round:");
        var rates = new List<double>();
        var p50s = new List<double>();
        var p95s = new List<double>();
        var p99s = new List<double>();
        long allErrors = 0;
        for (var round = 0; round < rounds + 1; round++)
        {
            var latencies = new List<double>[Clients];
            var errors = 0L;
            var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
            var started = Stopwatch.GetTimestamp();
            var tasks = new Task[Clients];
            for (var c = 0; c < Clients; c++)
            {
                var mine = latencies[c] = new List<double>(100_000);
                tasks[c] = Task.Run(async () =>
                {
                    while (Stopwatch.GetTimestamp() < until)
                    {
                        var t0 = Stopwatch.GetTimestamp();
                        try
                        {
                            using var content = new ByteArrayContent(model.Request);
                            using var response = await http.PostAsync(model.InferPath, content);
                            await response.Content.ReadAsByteArrayAsync();
                            if (!response.IsSuccessStatusCode)
                            {
                                Interlocked.Increment(ref errors);
                                continue;
                            }
                        }
                        catch (HttpRequestException)
                        {
                            Interlocked.Increment(ref errors);
                            continue;
                        }

                        mine.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                    }
                });
            }

            await Task.WhenAll(tasks);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var all = latencies.SelectMany(l => l).ToList();
            all.Sort();
            if (round == 0)
            {
                // Warm-up round: connections, thread pool growth, tiered JIT.
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  warm-up: {all.Count / elapsed,8:0} req/s, errors {errors}"));
                allErrors += errors;
                continue;
            }

            var rate = all.Count / elapsed;
            rates.Add(rate);
            p50s.Add(Quantile(all, 0.5));
            p95s.Add(Quantile(all, 0.95));
            p99s.Add(Quantile(all, 0.99));
            allErrors += errors;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round}: {rate,8:0} req/s, errors {errors}, p50 {p50s[^1]:0} µs, p95 {p95s[^1]:0} µs, p99 {p99s[^1]:0} µs ({all.Count} requests)"));
        }

        summary.Add(string.Create(CultureInfo.InvariantCulture, $"{Clients} clients, unix socket, {model.ShapeText}: {Median(rates):0} req/s, errors {allErrors} (must be 0: {(allErrors == 0 ? "MET" : "NOT MET")}), p50 {Median(p50s):0} µs, p95 {Median(p95s):0} µs, p99 {Median(p99s):0} µs"));
    }

    private static double Quantile(List<double> sorted, double q) => sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * q))];

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static List<double> Measure(double seconds, Action action)
    {
        var samples = new List<double>(100_000);
        var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < until && samples.Count < 2_000_000)
        {
            var t0 = Stopwatch.GetTimestamp();
            action();
            samples.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
        }

        samples.Sort();
        return samples;
    }

    private static double AllocatedPerCall(int calls, Action action)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < calls; i++)
        {
            action();
        }

        return (GC.GetAllocatedBytesForCurrentThread() - before) / (double)calls;
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_session")]
    private static extern ref InferenceSession SessionOf(OnnxModel model);

    /// <summary>One model in the agent's catalog, its JSON request, and the bare-ORT baseline on the same session.</summary>
    private sealed class Case : IDisposable
    {
        private readonly InferenceSession _session;
        private readonly InferenceSession? _ownSession;
        private readonly OrtValue _input;
        private readonly OrtValue[] _inputs;
        private readonly float[] _data;
        private readonly long[] _shape;
        private readonly OrtValue[] _outputs;
        private readonly string[] _inputNames;
        private readonly string[] _outputNames;
        private readonly RunOptions _runOptions = new();
        private readonly string _sessionNote;

        public Case(ModelCatalog catalog, InferenceMeter meter, string name, string path, long[] shape, Func<int, float> value)
        {
            Name = name;
            ShapeText = string.Join("x", shape);
            InferPath = $"/v2/models/{name}/infer";
            var model = OnnxModel.Load(name, "1.0.0", path);
            catalog.Activate(model);
            meter.Track(name, "1.0.0");
            try
            {
                _session = SessionOf(model);
                _sessionNote = "the agent's own session";
            }
            catch (MissingFieldException)
            {
                // OnnxModel changed its field: fall back to a second session with OnnxModel.Load's options.
                using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
                _session = _ownSession = new InferenceSession(path, options);
                _sessionNote = "a second session with OnnxModel.Load's options (OnnxModel._session not found)";
            }

            var count = (int)shape.Aggregate(1L, (a, b) => a * b);
            var data = new float[count];
            for (var i = 0; i < count; i++)
            {
                data[i] = value(i);
            }

            _inputNames = [.. _session.InputMetadata.Keys];
            _input = OrtValue.CreateTensorValueFromMemory(data, shape);
            _inputs = [_input];
            _data = data;
            _shape = shape;
            _outputNames = [.. _session.OutputMetadata.Keys];
            _outputs = [.. _session.OutputMetadata.Values.Select(m => Allocate(m, shape[0]))];

            var json = new ArrayBufferWriter<byte>(count * 12);
            using (var writer = new Utf8JsonWriter(json))
            {
                writer.WriteStartObject();
                writer.WriteStartArray("inputs");
                writer.WriteStartObject();
                writer.WriteString("name", _inputNames[0]);
                writer.WriteStartArray("shape");
                foreach (var d in shape)
                {
                    writer.WriteNumberValue(d);
                }

                writer.WriteEndArray();
                writer.WriteString("datatype", "FP32");
                writer.WriteStartArray("data");
                foreach (var v in data)
                {
                    writer.WriteNumberValue(v);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            Request = json.WrittenSpan.ToArray();

            // Triton's binary tensor extension: the same input as raw little-endian floats after a small JSON header,
            // the outputs asked back as binary data.
            var head = System.Text.Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $$$"""{"inputs":[{"name":"{{{_inputNames[0]}}}","shape":[{{{string.Join(",", shape)}}}],"datatype":"FP32","parameters":{"binary_data_size":{{{count * 4}}}}}],"parameters":{"binary_data_output":true}}"""));
            BinaryHeaderLength = head.Length;
            BinaryRequest = [.. head, .. System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan())];
        }

        public byte[] BinaryRequest { get; }

        public int BinaryHeaderLength { get; }

        public string Name { get; }

        public string ShapeText { get; }

        public string InferPath { get; }

        public byte[] Request { get; }

        private static OrtValue Allocate(NodeMetadata meta, long batch)
        {
            long[] dims = [.. meta.Dimensions.Select(d => d < 0 ? batch : d)];
            var count = (int)dims.Aggregate(1L, (a, b) => a * b);
            return meta.ElementDataType switch
            {
                TensorElementType.Float => OrtValue.CreateTensorValueFromMemory(new float[count], dims),
                TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(new long[count], dims),
                _ => throw new NotSupportedException($"benchmark output type {meta.ElementDataType}"),
            };
        }

        private void Bare() => _session.Run(_runOptions, _inputNames, _inputs, _outputNames, _outputs);

        /// <summary>
        /// ORT called the way the agent calls it today (OnnxModel.Run): a new input array and OrtValue, a new RunOptions,
        /// outputs allocated by ORT and returned in a new collection. The JSON and validation work is not in it.
        /// </summary>
        private void AgentStyleOrt()
        {
            var copy = new float[_data.Length];
            _data.CopyTo(copy, 0);
            using var input = OrtValue.CreateTensorValueFromMemory(copy, _shape);
            using var runOptions = new RunOptions();
            using var results = _session.Run(runOptions, _inputNames, [input], _outputNames);
        }

        public void Run(InferenceRunner runner, HttpClient http, double seconds, int rounds, List<string> summary, bool inProcessAllocations, string? plot = null)
        {
            using var parsed = JsonDocument.Parse(Request);
            var buffer = new ArrayBufferWriter<byte>(Math.Max(4096, Request.Length));
            using var writer = new Utf8JsonWriter(buffer);
            void InProcess()
            {
                buffer.ResetWrittenCount();
                writer.Reset(buffer);
                runner.Infer(Name, parsed.RootElement, writer);
                writer.Flush();
            }

            void ParseAndInProcess()
            {
                using var doc = JsonDocument.Parse(Request);
                buffer.ResetWrittenCount();
                writer.Reset(buffer);
                runner.Infer(Name, doc.RootElement, writer);
                writer.Flush();
            }

            void Socket()
            {
                using var content = new ByteArrayContent(Request);
                using var response = http.PostAsync(InferPath, content).GetAwaiter().GetResult();
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"agent answered {(int)response.StatusCode}: {response.Content.ReadAsStringAsync().GetAwaiter().GetResult()}");
                }
            }

            void BinarySocket()
            {
                using var content = new ByteArrayContent(BinaryRequest);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
                using var message = new HttpRequestMessage(HttpMethod.Post, InferPath) { Content = content };
                message.Headers.Add("Inference-Header-Content-Length", BinaryHeaderLength.ToString(CultureInfo.InvariantCulture));
                using var response = http.Send(message);
                if (!response.IsSuccessStatusCode || !response.Headers.Contains("Inference-Header-Content-Length"))
                {
                    throw new InvalidOperationException($"agent answered {(int)response.StatusCode} to the binary request: {response.Content.ReadAsStringAsync().GetAwaiter().GetResult()}");
                }

                response.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult();
            }

            // Warm up every path (tiered JIT, connection) and show one response, so a broken path is visible.
            var warmups = Request.Length > 100_000 ? 10 : 2000;
            for (var i = 0; i < warmups; i++)
            {
                Bare();
                AgentStyleOrt();
                InProcess();
                ParseAndInProcess();
                Socket();
                BinarySocket();
            }

            var response = System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
            Console.WriteLine();
            Console.WriteLine($"{Name} {ShapeText} (request {Request.Length} bytes of JSON; baseline on {_sessionNote}); agent answered: {(response.Length > 160 ? response[..160] + "..." : response)}");
            Console.WriteLine($"  {"round",-6} {"bare ORT µs",12} {"ORT agent-style µs",19} {"in-process µs",14} {"parse+in-proc µs",17} {"socket µs",11} {"binary µs",11} {"added in-proc",14} {"added socket",13} {"socket/bare",12}");

            var bare = new List<double>();
            var agentStyle = new List<double>();
            var inProc = new List<double>();
            var parseIn = new List<double>();
            var sock = new List<double>();
            var addedIn = new List<double>();
            var addedSock = new List<double>();
            var ratio = new List<double>();
            var bin = new List<double>();
            var binRatio = new List<double>();
            for (var round = 1; round <= rounds; round++)
            {
                var bareSamples = Measure(seconds / 2, Bare);
                var b1 = Median(bareSamples);
                var a = Median(Measure(seconds / 2, AgentStyleOrt));
                var inSamples = Measure(seconds, InProcess);
                var i = Median(inSamples);
                var p = Median(Measure(seconds, ParseAndInProcess));
                var sockSamples = Measure(seconds, Socket);
                var s = Median(sockSamples);
                var binSamples = Measure(seconds, BinarySocket);
                var bs = Median(binSamples);
                var b2 = Median(Measure(seconds / 2, Bare));
                if (plot is not null && round == rounds)
                {
                    // The last round's latency distributions, one curve per path (log scale: they span 3 decades).
                    new SvgChart { Title = $"{Name} {ShapeText}: latency distribution (round {round})", XLabel = "latency, µs (log scale)", YLabel = "share of requests at or below", LogX = true, YMax = 1 }
                        .Add("bare ORT", SvgChart.Cdf(bareSamples))
                        .Add("agent in-process", SvgChart.Cdf(inSamples))
                        .Add("socket JSON", SvgChart.Cdf(sockSamples))
                        .Add("socket binary", SvgChart.Cdf(binSamples))
                        .Save(plot);
                    Console.WriteLine($"  latency distributions: {plot}");
                }

                var b = (b1 + b2) / 2;
                bare.Add(b);
                agentStyle.Add(a);
                inProc.Add(i);
                parseIn.Add(p);
                sock.Add(s);
                addedIn.Add(i - b);
                addedSock.Add(s - b);
                ratio.Add(s / b);
                bin.Add(bs);
                binRatio.Add(bs / b);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {round,-6} {b,12:0.0} {a,19:0.0} {i,14:0.0} {p,17:0.0} {s,11:0.0} {bs,11:0.0} {i - b,14:0.0} {s - b,13:0.0} {s / b,11:0.0}x"));
            }

            var calls = Request.Length > 100_000 ? 30 : 10_000;
            var bareAlloc = AllocatedPerCall(calls, Bare);
            var agentStyleAlloc = AllocatedPerCall(calls, AgentStyleOrt);
            var inAlloc = AllocatedPerCall(calls, InProcess);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  allocated per call on this thread ({calls} calls): bare ORT {bareAlloc:0.#} B, ORT agent-style {agentStyleAlloc:0.#} B, agent in-process {inAlloc:0.#} B, added {inAlloc - bareAlloc:0.#} B"));

            if (inProcessAllocations)
            {
                summary.Add(string.Create(CultureInfo.InvariantCulture, $"{ShapeText} in-process (InferenceRunner on a parsed request, reused buffer): bare ORT {Median(bare):0.0} µs (ORT agent-style {Median(agentStyle):0.0} µs), added {Median(addedIn):0.0} µs per call (target <= 10 µs: {(Median(addedIn) <= 10 ? "MET" : "NOT MET")}), added {inAlloc - bareAlloc:0} B per call (target 0 B: {(inAlloc - bareAlloc <= 0 ? "MET" : "NOT MET")})"));
                summary.Add(string.Create(CultureInfo.InvariantCulture, $"{ShapeText} unix socket JSON, one client: added {Median(addedSock):0.0} µs over bare ORT, {Median(ratio):0.0}x (target <= 150 µs: {(Median(addedSock) <= 150 ? "MET" : "NOT MET")})"));
            }
            else
            {
                summary.Add(string.Create(CultureInfo.InvariantCulture, $"{Name} {ShapeText} binary tensor extension over the unix socket: {Median(bin):0} µs = {Median(binRatio):0.00}x bare ORT {Median(bare):0} µs (target <= 1.5x: {(Median(binRatio) <= 1.5 ? "MET" : "NOT MET")})"));
                summary.Add(string.Create(CultureInfo.InvariantCulture, $"{Name} {ShapeText} JSON: bare ORT {Median(bare):0} µs; in-process on a parsed request {Median(inProc):0} µs ({Median(inProc) / Median(bare):0.0}x); parse + in-process {Median(parseIn):0} µs ({Median(parseIn) / Median(bare):0.0}x); unix socket {Median(sock):0} µs ({Median(ratio):0.0}x, added {Median(addedSock):0} µs); {inAlloc - bareAlloc:0} B allocated per in-process call"));
            }

        }

        public void Dispose()
        {
            _input.Dispose();
            foreach (var o in _outputs)
            {
                o.Dispose();
            }

            _runOptions.Dispose();
            _ownSession?.Dispose();
        }
    }
}
