using System.Collections.Concurrent;
using EdgeAgent.Agent.Tests.Infrastructure;
using EdgeAgent.Bench.Fleet;
using EdgeAgent.Fleet.Rollouts;

namespace EdgeAgent.Agent.Tests;

/// <summary>The fleet simulation's code path (bench -- fleet) with 20 real agents against mosquitto, kept small.</summary>
public sealed class FleetSimulationTests
{
    [Fact]
    public async Task Twenty_devices_complete_a_rollout_and_a_bundle_for_another_device_type_aborts_and_rolls_back()
    {
        if (MosquittoProcess.Path() is null)
        {
            Assert.Skip("mosquitto is not installed (apt-get install mosquitto)");
        }

        var dir = Directory.CreateTempSubdirectory("edgeagent-fleet-test-").FullName;
        var lines = new ConcurrentQueue<string>();
        try
        {
            var json = Path.Combine(dir, "fleet.json");
            var result = await FleetSimulation.RunAsync(
                new FleetOptions
                {
                    Devices = 20,
                    Fail = 0.05,
                    Seed = 1,
                    JsonPath = json,
                    // Small byte-different models instead of the 1 MB one: no python needed, and quick.
                    ModelPath = AgentRig.WriteModelVariant(1, dir),
                    FailureModelPath = AgentRig.WriteModelVariant(2, dir),
                    WaveTimeout = TimeSpan.FromSeconds(30),
                    Output = lines.Enqueue,
                },
                TestContext.Current.CancellationToken);

            var rollout = result.Scenarios[0];
            Assert.True(rollout.State == RolloutStates.Completed, string.Join('\n', lines));
            Assert.Equal(20, rollout.Active);
            Assert.NotNull(rollout.AllActiveSeconds);
            Assert.Equal(4, rollout.WaveTimes.Count);
            Assert.Equal(0, rollout.Reconnects);
            // Every device fetched the model once; the kernel counters saw at least the chunk payload.
            Assert.Equal(20, rollout.WireDevicesMeasured);
            Assert.True(rollout.WireReceivedPerDevice.Min >= rollout.ChunkPayloadPerDevice.Min && rollout.ChunkPayloadPerDevice.Min == rollout.ModelBytes, string.Join('\n', lines));
            // Three model files (1.0.0, 1.1.0, 1.2.0) shared by 20 agents: one ONNX Runtime session per file, plus one
            // when a slow device activates 1.2.0 after the abort already took every other device back to 1.1.0 (the
            // 1.2.0 session was closed with its last user, so it is created again; seen once in CI under load).
            // Without sharing it would be 40 or more.
            Assert.InRange(result.OrtSessionsCreated, 3, 4);

            // Seed 1 makes d0004 (wave 3 of 1/1/8/10) the one type-b device: 1 of 10 targeted is above 5%.
            Assert.Equal(1, result.FailingDevices);
            var failure = result.Scenarios[1];
            Assert.True(failure.State == RolloutStates.Aborted, string.Join('\n', lines));
            Assert.Contains("above the abort threshold", failure.Reason, StringComparison.Ordinal);
            Assert.Contains(failure.FailureReasons, r => r.Contains("wrong-device-type", StringComparison.Ordinal));
            Assert.Equal(10, failure.Restored);
            Assert.NotNull(failure.RollbackSeconds);

            Assert.True(File.Exists(json));
            Assert.Contains("<polyline", await File.ReadAllTextAsync(Path.Combine(dir, "fleet-rollout.svg"), TestContext.Current.CancellationToken), StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(dir, "fleet-failure.svg")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
