using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using EdgeAgent.Agent.Tests.Infrastructure;
using EdgeAgent.Core.Mqtt;
using EdgeAgent.Fleet.Bundles;
using EdgeAgent.Fleet.FleetStatus;
using EdgeAgent.Fleet.Keys;
using EdgeAgent.Fleet.Mqtt;
using EdgeAgent.Fleet.Rollouts;

namespace EdgeAgent.Agent.Tests;

/// <summary>Staged rollouts driven over MQTT against real in-process agents sharing one broker.</summary>
public sealed class RolloutTests : IAsyncDisposable
{
    private static readonly Topics Topics = new(Topics.DefaultPrefix);
    private readonly string _work = Directory.CreateTempSubdirectory("edgeagent-rollout-").FullName;
    private readonly List<AgentRig> _rigs = [];
    private readonly List<FleetConnection> _connections = [];
    private TestBroker? _broker;
    private SigningKeys.KeyPairFiles? _keys;

    [Fact]
    public async Task A_failing_second_wave_aborts_the_rollout_and_rolls_the_wave_devices_back_without_a_download()
    {
        var clock = Stopwatch.StartNew();
        // 20 devices run vibration 1.0.0; 1.1.0 is signed for device type-a only, and only dev-01 is type-a.
        var rigs = await StartFleetAsync(20, i => i == 1 ? "type-a" : "type-b");
        await PublishBundleAsync("1.0.0", 0, []);
        await Task.WhenAll(rigs.Select(r => r.DeployAsync("1.0.0")));
        await Task.WhenAll(rigs.Select(r => r.WaitForReportedAsync("Active", "1.0.0")));
        var started = clock.Elapsed;
        await PublishBundleAsync("1.1.0", 1, ["type-a"]);

        using var driver = await DriverAsync("r-abort");
        var lines = new ConcurrentQueue<string>();
        driver.Progress += (_, line) => lines.Enqueue(line);
        var doc = await driver.CreateAsync(Request("r-abort", rigs, waves: "1,10%,50%,100%"), TestContext.Current.CancellationToken);
        doc = await driver.DriveAsync(doc, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.True(doc.State == RolloutStates.Aborted, $"{doc.State}: {doc.Reason}\n{string.Join('\n', lines)}");
        Assert.Equal(2, doc.CurrentWave);
        Assert.Contains("1 of 2 targeted device(s) failed (50%), above the abort threshold 5%", doc.Reason, StringComparison.Ordinal);
        Assert.Equal(RolloutDeviceStatus.Succeeded, doc.Devices["dev-01"].Status);
        Assert.Equal(RolloutDeviceStatus.Failed, doc.Devices["dev-02"].Status);
        Assert.Contains("wrong-device-type", doc.Devices["dev-02"].Reason, StringComparison.Ordinal);
        Assert.True(doc.Devices["dev-02"].Restored);
        Assert.True(doc.Devices["dev-01"].Restored);
        Assert.All(rigs.Skip(2), r => Assert.Equal(RolloutDeviceStatus.Pending, doc.Devices[r.Id].Status));

        // The retained state is the final one, and the devices' desired documents say what the abort decided.
        var retained = await RolloutDriver.ReadAsync(rigs[0].Operator!, "r-abort", cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(RolloutStates.Aborted, retained!.State);
        Assert.Equal("1.0.0", await DesiredVersionAsync(rigs[1]));
        Assert.Equal("1.0.0", await DesiredVersionAsync(rigs[0]));
        Assert.Equal("1.0.0", await DesiredVersionAsync(rigs[19]));

        // dev-02 serves 1.0.0 again (it never stopped); dev-01 switched back to the 1.0.0 it kept (the manifest of
        // 1.0.0 is no longer needed on the broker), the untouched ones stay on 1.0.0.
        await rigs[1].WaitForReportedAsync("Active", "1.0.0");
        await rigs[0].WaitForReportedAsync("Active", "1.0.0");
        var first = rigs[0].ReportedModel()!.Value;
        Assert.Equal("1.1.0", first.GetProperty("previousVersion").GetString());
        Assert.Equal("1.0.0", rigs[5].ReportedModel()!.Value.GetProperty("activeVersion").GetString());
        TestContext.Current.SendDiagnosticMessage($"20 agents Active on 1.0.0 after {started.TotalSeconds:0.0} s; rollout aborted after {(clock.Elapsed - started).TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task Pause_and_resume_from_a_second_connection_hold_the_next_wave_until_resumed()
    {
        var rigs = await StartFleetAsync(3, _ => null, startAgent: i => i != 1);
        await PublishBundleAsync("1.1.0", 1, []);
        var history = await WatchRolloutAsync("r-pause");

        using var driver = await DriverAsync("r-pause");
        var doc = await driver.CreateAsync(Request("r-pause", rigs, waves: "1,100%"), TestContext.Current.CancellationToken);
        var drive = Task.Run(() => driver.DriveAsync(doc, TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        // dev-01 (wave 1) is not running yet, so the rollout waits in wave 1.
        await Wait.UntilAsync(() => history.Any(d => d.CurrentWave == 1), Wait.Default, "wave 1 started");

        var second = await ConnectAsync();
        await RolloutControl.PauseAsync(second, "r-pause", "operator-2", TimeProvider.System, TestContext.Current.CancellationToken);
        await Wait.UntilAsync(() => history.Any(d => d.State == RolloutStates.Paused && d.Writer == driver.Writer), Wait.Default, "the driver to confirm the pause");

        // dev-01 comes up and succeeds while paused: the gate does not advance.
        await rigs[0].StartAgentAsync();
        await rigs[0].WaitForReportedAsync("Active", "1.1.0");
        var resumedAt = history.Count;
        await RolloutControl.ResumeAsync(second, "r-pause", "operator-2", TimeProvider.System, TestContext.Current.CancellationToken);

        doc = await drive.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.Equal(RolloutStates.Completed, doc.State);
        Assert.All(rigs, r => Assert.Equal(RolloutDeviceStatus.Succeeded, doc.Devices[r.Id].Status));
        var snapshot = history.ToList();
        var firstWave2 = snapshot.FindIndex(d => d.CurrentWave == 2);
        Assert.True(firstWave2 >= resumedAt, $"wave 2 started at message {firstWave2}, before the resume at {resumedAt}");
        Assert.DoesNotContain(snapshot.Take(resumedAt), d => d.Devices["dev-01"].Status == RolloutDeviceStatus.Succeeded);
    }

    [Fact]
    public async Task Abort_from_a_second_connection_is_obeyed_by_the_driver_and_done_by_itself_when_no_driver_runs()
    {
        var rigs = await StartFleetAsync(2, _ => null, startAgent: _ => false);
        await PublishBundleAsync("1.0.0", 0, []);
        await rigs[0].PublishRawAsync(Topics.DeviceDesired("dev-01"), """{"models":[{"name":"vibration","version":"1.0.0"}]}"""u8.ToArray());

        // A driver runs: it sees the abort, writes dev-01 back and ends aborted.
        using (var driver = await DriverAsync("r-abort-1"))
        {
            var doc = await driver.CreateAsync(Request("r-abort-1", rigs, waves: "1,100%"), TestContext.Current.CancellationToken);
            var drive = Task.Run(() => driver.DriveAsync(doc, TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
            await Wait.UntilAsync(async () => await DesiredVersionAsync(rigs[0]) == "1.1.0", Wait.Default, "dev-01 targeted");
            var second = await ConnectAsync();
            var aborted = await RolloutControl.AbortAsync(second, "r-abort-1", false, "operator-2", TimeProvider.System, cancellationToken: TestContext.Current.CancellationToken);
            doc = await drive.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            Assert.Equal(RolloutStates.Aborted, doc.State);
            Assert.Equal("aborted by operator", doc.Reason);
            Assert.True(doc.Devices["dev-01"].Restored);
            Assert.True(aborted.Devices["dev-01"].Restored);
            Assert.Equal("1.0.0", await DesiredVersionAsync(rigs[0]));
        }

        // The driver's process stops (Ctrl-C) in wave 1; abort from elsewhere finds no driver and restores by itself.
        using (var driver = await DriverAsync("r-abort-2"))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            var doc = await driver.CreateAsync(Request("r-abort-2", rigs, waves: "1,100%"), TestContext.Current.CancellationToken);
            var drive = Task.Run(() => driver.DriveAsync(doc, stop.Token), TestContext.Current.CancellationToken);
            await Wait.UntilAsync(async () => await DesiredVersionAsync(rigs[0]) == "1.1.0", Wait.Default, "dev-01 targeted");
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => drive);
        }

        var other = await ConnectAsync();
        Assert.Null(await RolloutDriver.DriverOfAsync(other, "r-abort-2", cancellationToken: TestContext.Current.CancellationToken));
        var result = await RolloutControl.AbortAsync(other, "r-abort-2", false, "operator-3", TimeProvider.System, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(RolloutStates.Aborted, result.State);
        Assert.True(result.Devices["dev-01"].Restored);
        Assert.Equal("1.0.0", await DesiredVersionAsync(rigs[0]));
        // dev-02 was never targeted: its desired state was never written.
        Assert.Null(await DesiredStateWriter.ReadAsync(other, "dev-02", TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_rollout_goes_on_when_a_new_process_resumes_it_after_the_driver_stopped()
    {
        var rigs = await StartFleetAsync(3, _ => null, startAgent: i => i != 1);
        await PublishBundleAsync("1.1.0", 1, []);
        using (var driver = await DriverAsync("r-restart"))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            var doc = await driver.CreateAsync(Request("r-restart", rigs, waves: "1,100%"), TestContext.Current.CancellationToken);
            var drive = Task.Run(() => driver.DriveAsync(doc, stop.Token), TestContext.Current.CancellationToken);
            await Wait.UntilAsync(async () => await DesiredVersionAsync(rigs[0]) == "1.1.0", Wait.Default, "dev-01 targeted");
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => drive);
        }

        await rigs[0].StartAgentAsync();
        using var next = await DriverAsync("r-restart");
        var resumed = await RolloutControl.ResumeAsync(next.Connection, "r-restart", next.Driver.Writer, TimeProvider.System, TestContext.Current.CancellationToken);
        Assert.Equal(RolloutStates.Running, resumed.State);
        Assert.Null(await RolloutDriver.DriverOfAsync(next.Connection, "r-restart", cancellationToken: TestContext.Current.CancellationToken));
        var done = await next.Driver.DriveAsync(resumed, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.Equal(RolloutStates.Completed, done.State);
        Assert.All(rigs, r => Assert.Equal(RolloutDeviceStatus.Succeeded, done.Devices[r.Id].Status));
    }

    [Fact]
    public async Task When_the_drivers_connection_dies_its_will_clears_the_lease_and_another_process_takes_over()
    {
        // Needs the embedded broker: it drops the driver's connection the way a dead process or network would.
        var rigs = await StartFleetAsync(2, _ => null, startAgent: i => i != 1, embedded: true);
        await PublishBundleAsync("1.1.0", 1, []);
        var embedded = (TestBroker.Embedded)_broker!;
        using var first = await DriverAsync("r-will");
        var doc = await first.CreateAsync(Request("r-will", rigs, waves: "1,100%") with { WaveTimeout = TimeSpan.FromMinutes(5) }, TestContext.Current.CancellationToken);
        var drive = Task.Run(() => first.DriveAsync(doc, TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        var watcher = await ConnectAsync();
        await Wait.UntilAsync(async () => await RolloutDriver.DriverOfAsync(watcher, "r-will", TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken) == first.Writer, Wait.Default, "the first driver's lease");
        await Wait.UntilAsync(async () => await DesiredVersionAsync(rigs[0]) == "1.1.0", Wait.Default, "dev-01 targeted");

        // The driver's own connection (the watcher subscribes to the lease topic too).
        await embedded.Broker.DisconnectClientAsync(first.Connection.ClientId);
        var error = await Assert.ThrowsAsync<IOException>(() => drive.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        Assert.Contains("rollout resume r-will", error.Message, StringComparison.Ordinal);
        await Wait.UntilAsync(async () => await RolloutDriver.DriverOfAsync(watcher, "r-will", TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken) is null, Wait.Default, "the will to clear the lease");

        await rigs[0].StartAgentAsync();
        using var second = await DriverAsync("r-will");
        var resumed = await RolloutControl.ResumeAsync(second.Connection, "r-will", second.Writer, TimeProvider.System, TestContext.Current.CancellationToken);
        var done = await second.DriveAsync(resumed, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.Equal(RolloutStates.Completed, done.State);
    }

    [Fact]
    public async Task Fleet_status_shows_a_stopped_agent_offline_and_an_old_heartbeat_stale()
    {
        var rigs = await StartFleetAsync(2, _ => null);
        await PublishBundleAsync("1.0.0", 0, []);
        await rigs[0].DeployAsync("1.0.0");
        await rigs[0].WaitForReportedAsync("Active", "1.0.0");
        await rigs[1].StopAgentAsync();
        // A device whose last heartbeat (retained) is 10 minutes old, though its status still says online, and one
        // that never sent a heartbeat.
        await rigs[0].PublishRawAsync(Topics.Status("ghost"), """{"state":"online","deviceId":"ghost","seq":4}"""u8.ToArray());
        await rigs[0].PublishRawAsync(Topics.Health("ghost"), Encoding.UTF8.GetBytes($$"""{"deviceId":"ghost","timestamp":"{{DateTimeOffset.UtcNow.AddMinutes(-10):O}}","intervalSeconds":30}"""));
        await rigs[0].PublishRawAsync(Topics.Status("mute"), """{"state":"online","deviceId":"mute","seq":1}"""u8.ToArray());

        var connection = await ConnectAsync();
        IReadOnlyList<FleetDevice> rows = [];
        await Wait.UntilAsync(
            async () =>
            {
                rows = await FleetView.CollectAsync(connection, TimeSpan.FromSeconds(2), TimeProvider.System, TestContext.Current.CancellationToken);
                return rows.Any(r => r.Device == "dev-01" && r.State == "online");
            },
            Wait.Default,
            "dev-01 online with a fresh heartbeat");
        var byId = rows.ToDictionary(r => r.Device);
        Assert.True(byId["dev-01"].Healthy);
        Assert.Equal("1.0.0", Assert.Single(byId["dev-01"].Models).ActiveVersion);
        Assert.Equal("offline", byId["dev-02"].State);
        Assert.False(byId["dev-02"].Healthy);
        Assert.Equal("stale", byId["ghost"].State);
        Assert.False(byId["ghost"].Healthy);
        Assert.True(byId["ghost"].HeartbeatAgeSeconds >= 600);
        Assert.Equal("unknown", byId["mute"].State);
        Assert.Null(byId["mute"].HeartbeatAgeSeconds);
        Assert.False(byId["mute"].Healthy);
    }

    private async Task<IReadOnlyList<AgentRig>> StartFleetAsync(int count, Func<int, string?> deviceType, Func<int, bool>? startAgent = null, bool embedded = false)
    {
        _broker = !embedded && Environment.GetEnvironmentVariable("EDGEAGENT_TEST_BROKER") == "mosquitto" ? await TestBroker.MosquittoAsync(_work) : await TestBroker.EmbeddedAsync();
        _keys = SigningKeys.Generate(Path.Combine(_work, "keys"), "release");
        var rigs = await Task.WhenAll(Enumerable.Range(1, count).Select(i =>
        {
            var overrides = new Dictionary<string, string?>
            {
                ["Trust:PublicKeys:0"] = _keys.PublicKeyPath,
                ["Agent:MaxAttempts"] = "1",
                ["Telemetry:WindowSeconds"] = "5",
            };
            if (deviceType(i) is { } type)
            {
                overrides["Agent:DeviceType"] = type;
            }

            return AgentRig.StartAsync(_broker, overrides, startAgent?.Invoke(i) ?? true, $"dev-{i:00}", ownsBroker: false);
        }));
        _rigs.AddRange(rigs);
        return rigs;
    }

    private async Task PublishBundleAsync(string version, int variant, IReadOnlyList<string> deviceTypes)
    {
        using var key = SigningKeys.LoadPrivate(_keys!.PrivateKeyPath);
        var bundle = BundleBuilder.Create(new BundleBuilder.Request
        {
            ModelPath = variant == 0 ? AgentRig.SampleModel : _rigs[0].ModelVariant(variant),
            Name = AgentRig.Model,
            Version = version,
            Keys = [key],
            DeviceTypes = deviceTypes,
            OutPath = Path.Combine(_work, $"vibration-{version}.edgebundle"),
        });
        await _rigs[0].PublishAsync(bundle);
    }

    private static RolloutRequest Request(string id, IReadOnlyList<AgentRig> rigs, string waves) => new()
    {
        Id = id,
        Model = AgentRig.Model,
        Version = "1.1.0",
        Targets = [.. rigs.Select(r => r.Id)],
        Waves = WavePlan.Parse(waves),
        SuccessThreshold = 0.95m,
        AbortThreshold = 0.05m,
        WaveTimeout = TimeSpan.FromSeconds(60),
    };

    private async Task<DriverHandle> DriverAsync(string id)
    {
        var connection = await FleetConnection.ConnectWithWillAsync(_broker!.Url, Topics.DefaultPrefix, null, null, Topics.RolloutDriver(id), [], cancellationToken: TestContext.Current.CancellationToken);
        _connections.Add(connection);
        return new DriverHandle(connection, new RolloutDriver(connection, id, RolloutDriver.NewWriter()));
    }

    private async Task<FleetConnection> ConnectAsync()
    {
        var connection = await FleetConnection.ConnectAsync(_broker!.Url, cancellationToken: TestContext.Current.CancellationToken);
        _connections.Add(connection);
        return connection;
    }

    /// <summary>Every revision of a rollout's state, in the order the broker delivered them.</summary>
    private async Task<ConcurrentQueue<RolloutDocument>> WatchRolloutAsync(string id)
    {
        var history = new ConcurrentQueue<RolloutDocument>();
        var connection = await ConnectAsync();
        connection.MessageReceived += (topic, payload) =>
        {
            if (topic == Topics.Rollout(id) && payload.Length > 0)
            {
                history.Enqueue(RolloutDocument.Parse(payload, topic));
            }
        };
        await connection.WatchAsync(Topics.Rollout(id), TestContext.Current.CancellationToken);
        return history;
    }

    private static async Task<string?> DesiredVersionAsync(AgentRig rig)
    {
        var desired = await DesiredStateWriter.ReadAsync(rig.Operator!, rig.Id, TimeSpan.FromMilliseconds(500), TestContext.Current.CancellationToken);
        return DesiredStateWriter.EntryOf(desired, AgentRig.Model) is { } entry ? entry.GetProperty("version").GetString() : null;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }

        await Task.WhenAll(_rigs.Select(r => r.DisposeAsync().AsTask()));
        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }

        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
