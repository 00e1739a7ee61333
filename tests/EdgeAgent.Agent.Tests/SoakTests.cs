using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeAgent.Agent.Tests.Infrastructure;
using EdgeAgent.Fleet.Bundles;
using EdgeAgent.Fleet.Keys;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Agent.Tests;

/// <summary>
/// Soak (issue 9): the real <c>edge-agent</c> process with the sample model deployed over MQTT (signed bundle), under
/// 10 inferences/s over the unix socket, telemetry windows of 1 s (so the outbox is written and drained all the time).
/// After a warm-up, RSS may grow by at most 5 MB, <c>outbox.db</c> stays flat (its write-ahead log <c>outbox-log.db</c>
/// stays under the checkpoint size), and the open fds and threads do not grow.
/// By default a short real run (about 30 s, with a looser RSS bound, see <see cref="ShortRunMaxRssGrowthMb"/>);
/// <c>EDGEAGENT_SOAK_SECONDS=3600</c> makes it the one-hour soak of the
/// opt-in long suite:
/// <code>EDGEAGENT_SOAK_SECONDS=3600 dotnet test tests/EdgeAgent.Agent.Tests -c Release --filter "FullyQualifiedName~SoakTests"</code>
/// </summary>
public sealed class SoakTests
{
    /// <summary>
    /// The limit, asserted by soaks of at least 10 minutes (warm-up 180 s or more): RSS rises about 0.2 MB/s for
    /// the first ~150 s and is flat after that (cause not isolated: a 4 MB gen0 budget, DOTNET_GCgen0size, did not change it).
    /// </summary>
    private const double MaxRssGrowthMb = 5;

    /// <summary>
    /// Runs shorter than 10 minutes (the 30 s default: 10 s warm-up) are still inside that warm-up: RSS grew 4.9–6.8 MB in
    /// the default run's 20 s window. They still fail on a leak of several hundred KB a second, e.g. a response buffer
    /// or a connection per request, and on fds, threads or the outbox growing.
    /// </summary>
    private const double ShortRunMaxRssGrowthMb = 12;

    [Fact]
    public async Task Under_ten_inferences_a_second_rss_outbox_fds_and_threads_stay_flat()
    {
        var seconds = double.TryParse(Environment.GetEnvironmentVariable("EDGEAGENT_SOAK_SECONDS"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 30;
        var total = TimeSpan.FromSeconds(seconds);

        // Warm-up: JIT tiering, the first metrics windows and outbox pages, the thread pool finding its size.
        var warmUp = TimeSpan.FromSeconds(Math.Clamp(seconds * 0.3, 10, 300));
        var ct = TestContext.Current.CancellationToken;

        var work = Directory.CreateTempSubdirectory("ea-soak-").FullName;
        await using var broker = await TestBroker.EmbeddedAsync();
        var keys = SigningKeys.Generate(work, "soak");
        var state = Path.Combine(work, "state");
        var socket = Path.Combine(work, "api.sock");
        var config = Path.Combine(work, "edge-agent.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Agent = new { DeviceId = "soak-1", StateDirectory = state, ApiSocket = socket, ProbationSeconds = 0 },
            Mqtt = new { Url = broker.Url, MaxReconnectDelaySeconds = 1 },
            Trust = new { PublicKeys = new[] { keys.PublicKeyPath } },
            Telemetry = new { WindowSeconds = 1, HealthIntervalSeconds = 5 },
        }), ct);

        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "edge-agent.dll"), "--config", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment.Remove("NOTIFY_SOCKET");
        start.Environment.Remove("DOTNET_gcServer");
        using var agent = Process.Start(start)!;
        agent.OutputDataReceived += (_, e) => Keep(e.Data);
        agent.ErrorDataReceived += (_, e) => Keep(e.Data);
        agent.BeginOutputReadLine();
        agent.BeginErrorReadLine();
        try
        {
            // Deploy the sample model the way an operator does: signed bundle over MQTT, then the desired state.
            await using var fleet = await FleetConnection.ConnectAsync(broker.Url, clientId: "soak-operator", cancellationToken: ct);
            using (var key = SigningKeys.LoadPrivate(keys.PrivateKeyPath))
            {
                var bundle = BundleBuilder.Create(new BundleBuilder.Request
                {
                    ModelPath = AgentRig.SampleModel,
                    Name = AgentRig.Model,
                    Version = "1.0.0",
                    Keys = [key],
                    OutPath = Path.Combine(work, "vibration-1.0.0.edgebundle"),
                });
                await BundlePublisher.PublishAsync(fleet, bundle.Path, null, null, ct);
            }

            await DesiredStateWriter.SetModelAsync(fleet, "soak-1", AgentRig.Model, "1.0.0", TimeSpan.FromSeconds(0.5), ct);
            using var api = new UnixSocketApi(socket);
            await Wait.UntilAsync(
                async () => File.Exists(socket) && (await TryGetAsync(api, $"/v2/models/{AgentRig.Model}/ready")) == 200,
                TimeSpan.FromSeconds(60),
                $"the model to serve\n{string.Join('\n', output.TakeLast(30))}");

            // 10 inferences/s until the end; every response must be a 200.
            var request = AgentRig.SampleRequest;
            long ok = 0, failed = 0;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            stop.CancelAfter(total);
            var load = Task.Run(
                async () =>
                {
                    using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
                    try
                    {
                        while (await timer.WaitForNextTickAsync(stop.Token))
                        {
                            var (status, body) = await api.PostAsync($"/v2/models/{AgentRig.Model}/infer", request);
                            body.Dispose();
                            Interlocked.Increment(ref status == 200 ? ref ok : ref failed);
                        }
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                        // The end of the soak.
                    }
                },
                ct);

            var outbox = Path.Combine(state, "outbox.db");
            var outboxLog = Path.Combine(state, "outbox-log.db");
            var samples = new List<(double At, Sample Sample)>();
            var clock = Stopwatch.StartNew();
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Clamp(seconds / 60, 1, 30)), CancellationToken.None);
                Assert.False(agent.HasExited, $"the agent exited\n{string.Join('\n', output.TakeLast(30))}");
                samples.Add((clock.Elapsed.TotalSeconds, Sample.Of(agent.Id, outbox, outboxLog)));
            }

            await load;
            var after = samples.Where(x => x.At >= warmUp.TotalSeconds).Select(x => x.Sample).ToList();
            Assert.True(after.Count >= 6, $"only {after.Count} samples after the warm-up");
            var head = after.Take(Math.Max(3, after.Count / 4)).ToList();
            var tail = after.Skip(after.Count - Math.Max(3, after.Count / 4)).ToList();
            var growth = Median(tail.Select(x => x.RssMb)) - Median(head.Select(x => x.RssMb));
            var report = string.Create(CultureInfo.InvariantCulture, $"{seconds:0} s, warm-up {warmUp.TotalSeconds:0} s, {ok} inferences ok, {failed} failed; RSS {head[0].RssMb:0.0} -> {tail[^1].RssMb:0.0} MB (median growth {growth:0.00} MB, max {after.Max(x => x.RssMb):0.0}); PSS {head[0].PssMb:0.0} -> {tail[^1].PssMb:0.0} MB; outbox.db {head[0].OutboxKb:0} -> {tail[^1].OutboxKb:0} KB (max {after.Max(x => x.OutboxKb):0}), outbox-log.db max {samples.Max(x => x.Sample.LogKb):0} KB; fds {head.Max(x => x.Fds)} -> {tail.Max(x => x.Fds)}; threads {head.Max(x => x.Threads)} -> {tail.Max(x => x.Threads)}");
            TestContext.Current.TestOutputHelper?.WriteLine(report);
            var summary = Environment.GetEnvironmentVariable("EDGEAGENT_SOAK_REPORT");
            if (!string.IsNullOrEmpty(summary))
            {
                await File.WriteAllTextAsync(summary, report + "\n" + string.Join('\n', samples.Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.At:0} s: {x.Sample}"))) + "\n", CancellationToken.None);
            }

            Assert.Equal(0, failed);
            Assert.True(ok >= seconds * 10 * 0.8, $"too few inferences: {report}");
            Assert.True(growth <= (seconds >= 600 ? MaxRssGrowthMb : ShortRunMaxRssGrowthMb), $"RSS grew: {report}");

            // LiteDB grows the file by 8 KB pages and reuses freed ones: flat means no more than a few pages of drift.
            Assert.True(tail.Max(x => x.OutboxKb) <= head.Max(x => x.OutboxKb) + 64, $"outbox.db grew: {report}");
            Assert.True(samples.Max(x => x.Sample.LogKb) <= (Telemetry.Outbox.CheckpointPages * 8) + 256, $"outbox-log.db outgrew the checkpoint size: {report}");
            Assert.True(tail.Max(x => x.Fds) <= head.Max(x => x.Fds) + 2, $"fds grew: {report}");
            Assert.True(tail.Max(x => x.Threads) <= head.Max(x => x.Threads) + 2, $"threads grew: {report}");
        }
        finally
        {
            if (!agent.HasExited)
            {
                agent.Kill(entireProcessTree: true);
            }

            await agent.WaitForExitAsync(CancellationToken.None);
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // Best effort.
            }
        }

        void Keep(string? line)
        {
            if (line is not null)
            {
                output.Enqueue(line);
                while (output.Count > 200 && output.TryDequeue(out _))
                {
                }
            }
        }
    }

    private static async Task<int> TryGetAsync(UnixSocketApi api, string path)
    {
        try
        {
            var (status, body) = await api.GetAsync(path);
            body.Dispose();
            return status;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private sealed record Sample(double RssMb, double PssMb, int Threads, int Fds, double OutboxKb, double LogKb)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"RSS {RssMb:0.0} MB, PSS {PssMb:0.0} MB, threads {Threads}, fds {Fds}, outbox.db {OutboxKb:0} KB, outbox-log.db {LogKb:0} KB");

        public static Sample Of(int pid, string outbox, string outboxLog)
        {
            double Field(string file, string name) =>
                File.ReadLines(file).Where(l => l.StartsWith(name, StringComparison.Ordinal))
                    .Select(l => double.Parse(l.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).First();

            return new Sample(
                Field($"/proc/{pid}/smaps_rollup", "Rss:") / 1024,
                Field($"/proc/{pid}/smaps_rollup", "Pss:") / 1024,
                (int)Field($"/proc/{pid}/status", "Threads:"),
                Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length,
                File.Exists(outbox) ? new FileInfo(outbox).Length / 1024.0 : 0,
                File.Exists(outboxLog) ? new FileInfo(outboxLog).Length / 1024.0 : 0);
        }
    }
}
