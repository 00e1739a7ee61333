using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using EdgeAgent.Fleet.Bundles;
using EdgeAgent.Fleet.Keys;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Bench;

/// <summary>
/// Footprint and start-up of the real <c>edge-agent</c> process (issue 9): for each build (framework-dependent,
/// self-contained, self-contained + ReadyToRun, NativeAOT if asked; each optionally with runtime knobs as environment
/// variables, e.g. <c>sc+DOTNET_GCConserveMemory=5</c>) it starts the published binary under a fake systemd (a parent
/// process named <c>systemd</c>, which is what <c>SystemdHelpers.IsSystemdService()</c> checks, and a unix datagram
/// socket in <c>NOTIFY_SOCKET</c>) against an embedded MQTTnet broker, deploys the sample model with a signed bundle,
/// then measures: time from process start to <c>READY=1</c> and to the model answering <c>/v2/models/vibration/ready</c>
/// (several starts, interleaved across builds, the model restored from the state directory), RSS and PSS from
/// <c>/proc/PID/smaps_rollup</c>, threads and open fds idle with the model loaded, and again after N minutes of 10
/// inferences/s over the unix socket (all builds under load at the same time, so they share the machine's noise).
/// </summary>
internal static class FootprintBenchmark
{
    private const string Model = "vibration";
    private const string Version = "1.0.0";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>Greengrass nucleus lite, the issue's reference numbers.</summary>
    private static readonly (double PssMb, double RssMb, double StartMs) Anchor = (15, 51, 1300);

    public sealed record Options(double Minutes, IReadOnlyList<string> Builds, string? JsonPath, string? SvgPath, int Starts, string? PublishedDirectory, double IdleSeconds, double Rate);

    public static Options Parse(string[] args)
    {
        double minutes = 10, idle = 20, rate = 10;
        var builds = new List<string> { "fdd", "sc", "r2r" };
        string? json = null, svg = null, published = null;
        var starts = 5;
        for (var i = 1; i < args.Length; i += 2)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--minutes":
                    minutes = double.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--builds":
                    builds = [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                    break;
                case "--json":
                    json = value;
                    break;
                case "--svg":
                    svg = value;
                    break;
                case "--starts":
                    starts = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--published":
                    published = value;
                    break;
                case "--idle-seconds":
                    idle = double.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--rate":
                    rate = double.Parse(value, CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new ArgumentException($"unknown option {args[i]}; usage: footprint [--minutes N] [--builds fdd,sc,r2r[,aot][,BUILD+ENV=VALUE...]] [--json FILE] [--svg FILE] [--starts N] [--published DIR] [--idle-seconds N] [--rate N]");
            }
        }

        svg ??= json is null ? null : Path.ChangeExtension(json, ".svg");
        return new Options(minutes, builds, json, svg, starts, published, idle, rate);
    }

    public static async Task<int> RunAsync(Options options)
    {
        var work = Directory.CreateTempSubdirectory("edgeagent-bench-footprint-").FullName;
        var publishRoot = options.PublishedDirectory ?? Path.Combine(work, "publish");
        var runs = new List<AgentUnderTest>();
        try
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"footprint benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}, builds {string.Join(", ", options.Builds)}; {options.Starts} starts each, interleaved; {options.Minutes:0.##} min at {options.Rate:0.#} inferences/s; load average {LoadAverage()}"));

            // 1. Publish each distinct build (or take an existing publish from --published DIR/BUILD).
            var variants = options.Builds.Select(Variant.Parse).ToList();
            var published = new Dictionary<string, string>();
            foreach (var build in variants.Select(v => v.Build).Distinct())
            {
                published[build] = Publish(build, Path.Combine(publishRoot, build));
            }

            // 2. One broker, one signing key, one bundle; each variant its own device, state folder and socket.
            await using var broker = await EmbeddedBroker.StartAsync();
            var keys = SigningKeys.Generate(work, "footprint");
            string bundlePath;
            using (var key = SigningKeys.LoadPrivate(keys.PrivateKeyPath))
            {
                bundlePath = BundleBuilder.Create(new BundleBuilder.Request
                {
                    ModelPath = Path.Combine(AppContext.BaseDirectory, "samples", "vibration.onnx"),
                    Name = Model,
                    Version = Version,
                    Keys = [key],
                    OutPath = Path.Combine(work, "vibration-1.0.0.edgebundle"),
                }).Path;
            }

            await using var fleet = await FleetConnection.ConnectAsync(broker.Url, clientId: "footprint-operator");
            await BundlePublisher.PublishAsync(fleet, bundlePath, null, null);
            var request = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "samples", "request.json"));

            for (var i = 0; i < variants.Count; i++)
            {
                // Each variant runs from its own copy (not a hard link): PSS splits shared pages between the processes
                // that map the same file, so variants of one build would otherwise lower each other's PSS.
                var app = Path.Combine(work, $"agent-{i}", "app");
                CopyDirectory(Path.GetDirectoryName(published[variants[i].Build])!, app);
                var run = new AgentUnderTest(variants[i], Path.Combine(app, "edge-agent"), Path.Combine(work, $"agent-{i}"), $"footprint-{i}", broker.Url, keys.PublicKeyPath, request);
                runs.Add(run);

                // First start: deploy over MQTT (fetch, verify, install), then stop; later starts restore it from state.
                var first = await run.StartAsync();
                run.FirstStartMs = first.ReadyMs;
                await DesiredStateWriter.SetModelAsync(fleet, run.DeviceId, Model, Version, TimeSpan.FromSeconds(0.5));
                await run.WaitModelReadyAsync(TimeSpan.FromSeconds(60));
                await run.StopAsync();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {run.Name}: first start READY=1 after {first.ReadyMs:0} ms; deployed {Model} {Version}; publish {DirectorySizeMb(Path.GetDirectoryName(run.Executable)!):0.0} MB"));
            }

            // 3. Start-up: round-robin over the variants so that the machine's load hits them alike.
            for (var round = 1; round <= options.Starts; round++)
            {
                var line = new StringBuilder().Append(CultureInfo.InvariantCulture, $"  start round {round} (load {LoadAverage()}):");
                foreach (var run in runs)
                {
                    var start = await run.StartAsync();
                    var model = await run.WaitModelReadyAsync(TimeSpan.FromSeconds(30));
                    run.Starts.Add((start.ReadyMs, model));
                    await run.StopAsync();
                    line.Append(CultureInfo.InvariantCulture, $" {run.Name} READY {start.ReadyMs:0} ms, model {model:0} ms;");
                }

                Console.WriteLine(line.ToString());
            }

            // 4. Idle with the model loaded, then under 10 inferences/s; all variants run side by side.
            foreach (var run in runs)
            {
                await run.StartAsync();
                await run.WaitModelReadyAsync(TimeSpan.FromSeconds(30));
            }

            await Task.Delay(TimeSpan.FromSeconds(options.IdleSeconds));
            foreach (var run in runs)
            {
                run.Idle = run.Sample();
            }

            Console.WriteLine($"  idle after {options.IdleSeconds:0} s (load {LoadAverage()}): {string.Join("; ", runs.Select(r => $"{r.Name} {r.Idle}"))}");
            foreach (var run in runs)
            {
                Console.WriteLine($"    {run.Name} RSS by mapping: {run.Mappings()}");
            }

            using (var stop = new CancellationTokenSource(TimeSpan.FromMinutes(options.Minutes)))
            {
                var load = runs.Select(r => r.LoadAsync(options.Rate, stop.Token)).ToList();
                var sampling = Task.Run(async () =>
                {
                    using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Clamp(options.Minutes * 60 / 10, 5, 60)));
                    try
                    {
                        while (await timer.WaitForNextTickAsync(stop.Token))
                        {
                            foreach (var run in runs)
                            {
                                run.Series.Add((Stopwatch.GetElapsedTime(run.LoadStarted).TotalSeconds, run.Sample()));
                            }

                            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  t+{Stopwatch.GetElapsedTime(runs[0].LoadStarted).TotalMinutes:0.0} min (load {LoadAverage()}): {string.Join("; ", runs.Select(r => $"{r.Name} RSS {r.Series[^1].Sample.RssMb:0.0} MB, {r.Requests} ok, {r.Failures} failed"))}"));
                        }
                    }
                    catch (OperationCanceledException)
                    {
                        // Done.
                    }
                });
                await Task.WhenAll(load);
                await sampling;
            }

            foreach (var run in runs)
            {
                run.Loaded = run.Sample();
            }

            foreach (var run in runs)
            {
                var stopped = await run.StopAsync();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {run.Name}: {(stopped is { } ms ? $"exited {ms:0} ms after SIGTERM ({run.WatchdogPings} WATCHDOG=1 pings read)" : "DID NOT EXIT within 30 s of SIGTERM (killed)")}"));
            }

            Report(options, runs);
            return runs.All(r => r.Failures == 0) ? 0 : 1;
        }
        finally
        {
            foreach (var run in runs)
            {
                await run.DisposeAsync();
            }

            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // Best effort.
            }
        }
    }

    private static void Report(Options options, List<AgentUnderTest> runs)
    {
        var baseline = runs[0];
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"medians of {options.Starts} starts; memory idle (model loaded, {options.IdleSeconds:0} s after start) and after {options.Minutes:0.##} min at {options.Rate:0.#}/s; ratios against {baseline.Name}; load average {LoadAverage()}"));
        Console.WriteLine($"{"build",-34} {"READY ms",9} {"model ms",9} {"first",7} {"RSS idle",9} {"PSS idle",9} {"RSS load",9} {"PSS load",9} {"thr",4} {"fds",4} {"outbox KB",10} {"publish MB",11} {"× RSS",6} {"× start",8}");
        foreach (var run in runs)
        {
            var r = run.Summary();
            var b = baseline.Summary();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{run.Name,-34} {r.ReadyMs,9:0} {r.ModelMs,9:0} {r.FirstReadyMs,7:0} {r.Idle.RssMb,9:0.0} {r.Idle.PssMb,9:0.0} {r.Loaded.RssMb,9:0.0} {r.Loaded.PssMb,9:0.0} {r.Loaded.Threads,4} {r.Loaded.Fds,4} {r.Loaded.OutboxKb,10:0} {r.PublishMb,11:0.0} {r.Loaded.RssMb / b.Loaded.RssMb,6:0.00} {r.ReadyMs / b.ReadyMs,8:0.00}"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"Greengrass nucleus lite (reference)",-34} {Anchor.StartMs,9:0} {"",9} {"",7} {"",9} {Anchor.PssMb,9:0.0} {Anchor.RssMb + " (summed)",19}"));
        Console.WriteLine("goals: RSS <= 60 MB, start-up <= 1000 ms on x64");

        if (options.JsonPath is { } json)
        {
            var document = new
            {
                machine = new { cores = Environment.ProcessorCount, runtime = Environment.Version.ToString(), loadAverage = LoadAverage() },
                options.Minutes,
                options.Rate,
                options.Starts,
                options.IdleSeconds,
                anchor = new { name = "Greengrass nucleus lite", pssMb = Anchor.PssMb, summedRssMb = Anchor.RssMb, startMs = Anchor.StartMs },
                builds = runs.Select(r => new { name = r.Name, summary = r.Summary(), starts = r.Starts.Select(s => new { readyMs = s.ReadyMs, modelMs = s.ModelMs }), series = r.Series.Select(s => new { seconds = s.Seconds, sample = s.Sample }), requests = r.Requests, failures = r.Failures }),
            };
            File.WriteAllText(json, JsonSerializer.Serialize(document, JsonOptions));
            Console.WriteLine($"wrote {json}");
        }

        if (options.SvgPath is { } svg)
        {
            File.WriteAllText(svg, Svg(runs.Select(r => r.Summary()).ToList(), options));
            Console.WriteLine($"wrote {svg}");
        }
    }

    /// <summary>Two bar charts side by side: memory (RSS and PSS, idle and after load) and start-up (READY=1, model ready).</summary>
    private static string Svg(List<Summary> rows, Options options)
    {
        const int rowHeight = 46, left = 250, barMax = 300, top = 50;
        var height = top + (rows.Count * rowHeight) + 70;
        var memoryMax = Math.Max(70, rows.Max(r => Math.Max(r.Idle.RssMb, r.Loaded.RssMb)) * 1.1);
        var startMax = Math.Max(1400, rows.Max(r => r.ModelMs) * 1.1);
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{left + (2 * barMax) + 200}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        s.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        s.Append(CultureInfo.InvariantCulture, $"<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">edge-agent footprint: memory (MB; idle and after {options.Minutes:0.##} min at {options.Rate:0.#}/s) and start-up (ms)</text>\n");
        var memX = left;
        var startX = left + barMax + 100;
        s.Append(CultureInfo.InvariantCulture, $"<text x=\"{memX}\" y=\"40\">RSS idle / RSS load / PSS idle / PSS load</text><text x=\"{startX}\" y=\"40\">READY=1 / model ready</text>\n");
        Line(s, memX + (60 / memoryMax * barMax), top, height - 60, "red", "goal 60 MB RSS");
        Line(s, memX + (Anchor.PssMb / memoryMax * barMax), top, height - 45, "gray", "nucleus lite 15 MB PSS");
        Line(s, startX + (1000 / startMax * barMax), top, height - 60, "red", "goal 1 s");
        Line(s, startX + (Anchor.StartMs / startMax * barMax), top, height - 45, "gray", "nucleus lite 1.3 s");
        string[] memoryColours = ["#1f77b4", "#6baed6", "#2ca02c", "#98df8a"];
        for (var i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            var y = top + (i * rowHeight);
            s.Append(CultureInfo.InvariantCulture, $"<text x=\"10\" y=\"{y + 24}\">{Escape(r.Name)}</text>\n");
            double[] memory = [r.Idle.RssMb, r.Loaded.RssMb, r.Idle.PssMb, r.Loaded.PssMb];
            for (var k = 0; k < memory.Length; k++)
            {
                var w = memory[k] / memoryMax * barMax;
                s.Append(CultureInfo.InvariantCulture, $"<rect x=\"{memX}\" y=\"{y + (k * 10)}\" width=\"{w:0.0}\" height=\"9\" fill=\"{memoryColours[k]}\"/><text x=\"{memX + w + 3:0.0}\" y=\"{y + (k * 10) + 8}\" font-size=\"9\">{memory[k]:0.0}</text>\n");
            }

            double[] start = [r.ReadyMs, r.ModelMs];
            for (var k = 0; k < start.Length; k++)
            {
                var w = start[k] / startMax * barMax;
                s.Append(CultureInfo.InvariantCulture, $"<rect x=\"{startX}\" y=\"{y + (k * 14)}\" width=\"{w:0.0}\" height=\"12\" fill=\"{(k == 0 ? "#ff7f0e" : "#ffbb78")}\"/><text x=\"{startX + w + 3:0.0}\" y=\"{y + (k * 14) + 10}\" font-size=\"10\">{start[k]:0}</text>\n");
            }
        }

        s.Append("</svg>\n");
        return s.ToString();

        static void Line(StringBuilder s, double x, int y1, int y2, string colour, string label) =>
            s.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:0.0}\" y1=\"{y1}\" x2=\"{x:0.0}\" y2=\"{y2}\" stroke=\"{colour}\" stroke-dasharray=\"4 3\"/><text x=\"{x - 40:0.0}\" y=\"{y2 + 12}\" font-size=\"10\" fill=\"{colour}\">{label}</text>\n");
    }

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    /// <summary>Publishes (or reuses) one build into <paramref name="directory"/>; returns the path of its <c>edge-agent</c>.</summary>
    private static string Publish(string build, string directory)
    {
        var executable = Path.Combine(directory, "edge-agent");
        if (File.Exists(executable))
        {
            Console.WriteLine($"  {build}: using {directory}");
            return executable;
        }

        string[] flags = build switch
        {
            "fdd" => ["--no-self-contained"],
            "sc" => ["--self-contained"],
            "r2r" => ["--self-contained", "-p:PublishReadyToRun=true"],
            "aot" => ["-p:PublishAot=true"],
            _ => throw new ArgumentException($"unknown build '{build}' (fdd, sc, r2r, aot)"),
        };
        var project = Path.Combine(RepositoryRoot(), "src", "EdgeAgent.Agent", "EdgeAgent.Agent.csproj");
        var t0 = Stopwatch.GetTimestamp();
        var start = new ProcessStartInfo("dotnet", ["publish", project, "-c", "Release", "-r", "linux-x64", .. flags, "-p:DebugType=none", "-p:DebugSymbols=false", "-o", directory, "-nologo", "-v", "q"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet publish did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 || !File.Exists(executable))
        {
            throw new InvalidOperationException($"publishing {build} failed ({process.ExitCode}):\n{stdout}\n{stderr.Result}");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {build}: published in {Stopwatch.GetElapsedTime(t0).TotalSeconds:0} s into {directory}"));
        return executable;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(target, File.GetUnixFileMode(file));
            }
        }
    }

    private static string RepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "EdgeAgent.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException("EdgeAgent.sln not found above the current directory: run from the repository or pass --published DIR");
    }

    /// <summary>What a package would carry: native debug symbols (<c>*.dbg</c>, which an AOT publish may leave from an earlier build with symbols) do not count.</summary>
    private static double DirectorySizeMb(string directory) =>
        new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).Where(f => f.Extension != ".dbg").Sum(f => f.Length) / 1048576.0;

    internal static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>A build plus runtime knobs: <c>sc+DOTNET_gcServer=0+DOTNET_GCConserveMemory=5</c>.</summary>
    private sealed record Variant(string Name, string Build, IReadOnlyDictionary<string, string> Environment)
    {
        public static Variant Parse(string text)
        {
            var parts = text.Split('+');
            var environment = new Dictionary<string, string>();
            foreach (var part in parts.Skip(1))
            {
                var eq = part.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new ArgumentException($"'{part}' in '{text}' is not NAME=VALUE");
                }

                environment[part[..eq]] = part[(eq + 1)..];
            }

            return new Variant(text, parts[0], environment);
        }
    }

    internal sealed record ProcessSample(double RssMb, double PssMb, double PrivateMb, int Threads, int Fds, double OutboxKb)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"RSS {RssMb:0.0} MB, PSS {PssMb:0.0} MB, threads {Threads}, fds {Fds}");

        /// <summary>RSS, PSS and private memory from <c>/proc/PID/smaps_rollup</c>, threads from <c>status</c>, fds from <c>fd/</c>.</summary>
        public static ProcessSample Of(int pid, string? outboxPath)
        {
            double rss = 0, pss = 0, priv = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
            {
                var kb = Kb(line);
                if (line.StartsWith("Rss:", StringComparison.Ordinal))
                {
                    rss = kb;
                }
                else if (line.StartsWith("Pss:", StringComparison.Ordinal))
                {
                    pss = kb;
                }
                else if (line.StartsWith("Private_Clean:", StringComparison.Ordinal) || line.StartsWith("Private_Dirty:", StringComparison.Ordinal))
                {
                    priv += kb;
                }
            }

            var threads = (int)File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("Threads:", StringComparison.Ordinal)).Select(Kb).First();
            var fds = Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
            var outbox = outboxPath is not null && File.Exists(outboxPath) ? new FileInfo(outboxPath).Length / 1024.0 : 0;
            return new ProcessSample(rss / 1024, pss / 1024, priv / 1024, threads, fds, outbox);

            static double Kb(string line)
            {
                var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                return fields.Length >= 2 && double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : 0;
            }
        }
    }

    internal sealed record Summary(string Name, double ReadyMs, double ModelMs, double FirstReadyMs, ProcessSample Idle, ProcessSample Loaded, double PublishMb, long Requests, long Failures);

    /// <summary>One published build, started again and again under the fake systemd.</summary>
    private sealed class AgentUnderTest : IAsyncDisposable
    {
        private readonly Variant _variant;
        private readonly string _work;
        private readonly string _config;
        private readonly string _socket;
        private readonly byte[] _request;
        private readonly Queue<string> _output = new();
        private Process? _launcher;
        private Socket? _notify;
        private CancellationTokenSource? _drainStop;
        private Task? _drain;
        private int _pid;
        private long _started;
        private long _requests;
        private long _failures;

        public AgentUnderTest(Variant variant, string executable, string work, string deviceId, string brokerUrl, string publicKey, byte[] request)
        {
            _variant = variant;
            Executable = executable;
            _work = work;
            DeviceId = deviceId;
            _request = request;
            Directory.CreateDirectory(work);
            _socket = Path.Combine(work, "api.sock");
            _config = Path.Combine(work, "edge-agent.json");
            File.WriteAllText(_config, JsonSerializer.Serialize(new
            {
                Agent = new { DeviceId = deviceId, StateDirectory = Path.Combine(work, "state"), ApiSocket = _socket, ProbationSeconds = 0 },
                Mqtt = new { Url = brokerUrl },
                Trust = new { PublicKeys = new[] { publicKey } },
            }));
            File.CreateSymbolicLink(Path.Combine(work, "systemd"), "/bin/bash");
        }

        public string Name => _variant.Name;

        public string Executable { get; }

        public string DeviceId { get; }

        public List<(double ReadyMs, double ModelMs)> Starts { get; } = [];

        /// <summary>READY=1 of the very first start (fresh state folder, first run of this publish).</summary>
        public double FirstStartMs { get; set; } = double.NaN;

        public ProcessSample? Idle { get; set; }

        public ProcessSample? Loaded { get; set; }

        public List<(double Seconds, ProcessSample Sample)> Series { get; } = [];

        public long LoadStarted { get; private set; }

        public long Requests => Interlocked.Read(ref _requests);

        public long Failures => Interlocked.Read(ref _failures);

        private string OutboxPath => Path.Combine(_work, "state", "outbox.db");

        public ProcessSample Sample() => ProcessSample.Of(_pid, OutboxPath);

        /// <summary>The largest mappings by RSS from <c>/proc/PID/smaps</c> (file name, or <c>[anon]</c>, <c>[heap]</c>, <c>[stack]</c>), in MB.</summary>
        public string Mappings(int top = 10)
        {
            var byName = new Dictionary<string, double>(StringComparer.Ordinal);
            var name = "[anon]";
            foreach (var line in File.ReadLines($"/proc/{_pid}/smaps"))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 5 && fields[0].Contains('-', StringComparison.Ordinal) && !fields[0].EndsWith(':'))
                {
                    name = fields.Length >= 6 ? Path.GetFileName(string.Join(' ', fields[5..])) : "[anon]";
                    name = name.Length == 0 ? "[anon]" : name;
                }
                else if (fields.Length >= 2 && fields[0] == "Rss:")
                {
                    byName[name] = byName.GetValueOrDefault(name) + (double.Parse(fields[1], CultureInfo.InvariantCulture) / 1024);
                }
            }

            return string.Join(", ", byName.OrderByDescending(e => e.Value).Take(top).Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Key} {e.Value:0.0}")));
        }

        /// <summary>Starts the agent under the fake systemd; returns when it sent READY=1.</summary>
        public async Task<(double ReadyMs, int Pid)> StartAsync()
        {
            var notifyPath = Path.Combine(_work, "notify");
            File.Delete(notifyPath);
            _notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            _notify.Bind(new UnixDomainSocketEndPoint(notifyPath));

            // bash named "systemd" stays the agent's parent (the agent in the background, bash waits): /proc/PPID/comm is "systemd".
            var start = new ProcessStartInfo(Path.Combine(_work, "systemd"), ["-c", "\"$@\" & echo \"agent-pid $!\"; wait $!", "systemd", Executable, "--config", _config])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.Environment["NOTIFY_SOCKET"] = notifyPath;
            start.Environment["WATCHDOG_USEC"] = "30000000"; // WatchdogSec=30s, as in packaging/systemd/edge-agent.service
            foreach (var name in new[] { "WATCHDOG_PID", "JOURNAL_STREAM", "INVOCATION_ID", "DOTNET_gcServer", "DOTNET_GCConserveMemory", "DOTNET_TieredPGO", "DOTNET_TieredCompilation", "DOTNET_ReadyToRun" })
            {
                start.Environment.Remove(name);
            }

            // A framework-dependent apphost finds the runtime the benchmark itself runs on.
            start.Environment["DOTNET_ROOT"] = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));
            foreach (var (k, v) in _variant.Environment)
            {
                start.Environment[k] = v;
            }

            var pidSeen = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            var output = _output;
            lock (output)
            {
                output.Clear();
            }

            _started = Stopwatch.GetTimestamp();
            _launcher = Process.Start(start) ?? throw new InvalidOperationException("the fake systemd did not start");
            _launcher.OutputDataReceived += (_, e) =>
            {
                if (e.Data is { } line && line.StartsWith("agent-pid ", StringComparison.Ordinal))
                {
                    pidSeen.TrySetResult(int.Parse(line["agent-pid ".Length..], CultureInfo.InvariantCulture));
                }
                else if (e.Data is not null)
                {
                    lock (output)
                    {
                        output.Enqueue(e.Data);
                        if (output.Count > 30)
                        {
                            output.Dequeue();
                        }
                    }
                }
            };
            _launcher.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (output)
                    {
                        output.Enqueue(e.Data);
                        if (output.Count > 30)
                        {
                            output.Dequeue();
                        }
                    }
                }
            };
            _launcher.BeginOutputReadLine();
            _launcher.BeginErrorReadLine();

            var buffer = new byte[4096];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                while (true)
                {
                    var n = await _notify.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                    if (Encoding.UTF8.GetString(buffer, 0, n).Split('\n').Contains("READY=1"))
                    {
                        break;
                    }
                }
            }
            catch (OperationCanceledException)
            {
                string tail;
                lock (output)
                {
                    tail = string.Join('\n', output);
                }

                throw new TimeoutException($"{Name}: no READY=1 within 60 s (exited: {_launcher.HasExited})\n{tail}");
            }

            var readyMs = Stopwatch.GetElapsedTime(_started).TotalMilliseconds;

            // Keep reading NOTIFY_SOCKET as systemd does. A unix datagram socket queues at most
            // net.unix.max_dgram_qlen (10) unread datagrams; after that the agent's next notification (a WATCHDOG=1 ping
            // every WatchdogSec/2, or the STOPPING=1 of its SIGTERM handler) blocks in send(2) and the agent cannot stop.
            _drainStop = new CancellationTokenSource();
            _drain = DrainNotifyAsync(_notify, _drainStop.Token);
            _pid = await pidSeen.Task.WaitAsync(TimeSpan.FromSeconds(10));
            return (readyMs, _pid);
        }

        /// <summary>Polls <c>GET /v2/models/vibration/ready</c> every 5 ms; returns the time since process start.</summary>
        public async Task<double> WaitModelReadyAsync(TimeSpan timeout)
        {
            using var http = Http();
            var until = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < until)
            {
                try
                {
                    using var response = await http.GetAsync($"/v2/models/{Model}/ready");
                    if (response.IsSuccessStatusCode)
                    {
                        return Stopwatch.GetElapsedTime(_started).TotalMilliseconds;
                    }
                }
                catch (HttpRequestException)
                {
                    // Socket not bound yet.
                }

                await Task.Delay(5);
            }

            lock (_output)
            {
                throw new TimeoutException($"{Name}: model {Model} not ready within {timeout.TotalSeconds:0} s\n{string.Join('\n', _output)}");
            }
        }

        /// <summary>POSTs the sample request at <paramref name="rate"/> per second until cancelled.</summary>
        public async Task LoadAsync(double rate, CancellationToken cancellationToken)
        {
            using var http = Http();
            LoadStarted = Stopwatch.GetTimestamp();
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1 / rate));
            try
            {
                while (await timer.WaitForNextTickAsync(cancellationToken))
                {
                    try
                    {
                        using var content = new ByteArrayContent(_request);
                        using var response = await http.PostAsync($"/v2/models/{Model}/infer", content, cancellationToken);
                        Interlocked.Increment(ref response.IsSuccessStatusCode ? ref _requests : ref _failures);
                    }
                    catch (HttpRequestException)
                    {
                        Interlocked.Increment(ref _failures);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Done.
            }
        }

        /// <summary>WATCHDOG=1 datagrams received after READY=1.</summary>
        public int WatchdogPings => Volatile.Read(ref _watchdogPings);

        private int _watchdogPings;

        private async Task DrainNotifyAsync(Socket notify, CancellationToken cancellationToken)
        {
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    var n = await notify.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                    if (Encoding.UTF8.GetString(buffer, 0, n).Split('\n').Contains("WATCHDOG=1"))
                    {
                        Interlocked.Increment(ref _watchdogPings);
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // Stopped, or the socket was closed.
            }
        }

        private async Task StopDrainAsync()
        {
            if (_drainStop is not null)
            {
                await _drainStop.CancelAsync();
                if (_drain is not null)
                {
                    await _drain;
                }

                _drainStop.Dispose();
                _drainStop = null;
                _drain = null;
            }
        }

        /// <summary>SIGTERM (what <c>systemctl stop</c> sends); the milliseconds until the agent exited, or null if it took over 30 s (then killed).</summary>
        public async Task<double?> StopAsync()
        {
            if (_launcher is null)
            {
                return 0;
            }

            var t0 = Stopwatch.GetTimestamp();
            using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!)
            {
                await kill.WaitForExitAsync();
            }

            double? stopped;
            using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                try
                {
                    await _launcher.WaitForExitAsync(timeout.Token);
                    stopped = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                }
                catch (OperationCanceledException)
                {
                    lock (_output)
                    {
                        Console.WriteLine($"  {Name}: still running 30 s after SIGTERM; its last lines:\n    {string.Join("\n    ", _output)}");
                    }

                    _launcher.Kill(entireProcessTree: true);
                    await _launcher.WaitForExitAsync();
                    stopped = null;
                }
            }

            _launcher.Dispose();
            _launcher = null;
            await StopDrainAsync();
            _notify?.Dispose();
            _notify = null;
            return stopped;
        }

        public Summary Summary() => new(
            Name,
            Median(Starts.Select(s => s.ReadyMs)),
            Median(Starts.Select(s => s.ModelMs)),
            FirstStartMs,
            Idle!,
            Loaded ?? Idle!,
            DirectorySizeMb(Path.GetDirectoryName(Executable)!),
            Requests,
            Failures);

        public async ValueTask DisposeAsync()
        {
            if (_launcher is not null)
            {
                if (!_launcher.HasExited)
                {
                    _launcher.Kill(entireProcessTree: true);
                }

                await _launcher.WaitForExitAsync();
                _launcher.Dispose();
            }

            await StopDrainAsync();
            _notify?.Dispose();
        }

        private HttpClient Http() => new(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(_socket), ct);
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
    }
}
