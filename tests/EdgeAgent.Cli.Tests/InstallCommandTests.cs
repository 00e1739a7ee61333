using System.Text.Json;
using EdgeAgent.Fleet.Keys;
using EdgeAgent.Fleet.Mqtt;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Cli.Tests;

/// <summary><c>edgectl install</c> on an air-gapped device: no broker anywhere, a real agent, real bundles.</summary>
public sealed class InstallCommandTests : IAsyncDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("edgectl-install-").FullName;
    private Microsoft.AspNetCore.Builder.WebApplication? _agent;

    [Fact]
    public async Task Install_verifies_activates_and_pins_a_bundle_without_a_broker_and_refuses_a_tampered_one()
    {
        var keys = SigningKeys.Generate(_work, "release");
        var socket = Path.Combine(_work, "api.sock");
        _agent = Agent.AgentHost.Build(
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Agent:DeviceId"] = "offline-1",
                ["Agent:StateDirectory"] = Path.Combine(_work, "state"),
                ["Agent:ApiSocket"] = socket,
                ["Agent:ProbationSeconds"] = "0",
                ["Agent:RetryIntervalSeconds"] = "1",

                // This build of ONNX Runtime has no CUDA: the agent must fall back to CPU and say so.
                ["Serving:ExecutionProviders:0"] = "CUDA",
                ["Serving:ExecutionProviders:1"] = "CPU",

                // The board's own GPIO driver: a machine without a GPIO chip must say so and keep serving.
                ["Gpio:Enabled"] = "true",

                // Nothing listens there: the device is air-gapped.
                ["Mqtt:Url"] = $"mqtt://127.0.0.1:{EmbeddedBroker.FreePort()}",
                ["Trust:PublicKeys:0"] = keys.PublicKeyPath,
            }).Build(),
            logging => logging.ClearProviders());
        await Task.Run(() => _agent.StartAsync(TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        var bundle = Path.Combine(_work, "vibration-1.0.0.edgebundle");
        Assert.Equal(0, (await Edgectl.RunAsync("bundle", "create", "--model", Path.Combine(AppContext.BaseDirectory, "samples", "vibration.onnx"), "--name", "vibration", "--version", "1.0.0", "--key", keys.PrivateKeyPath, "--out", bundle)).Code);

        var install = await Edgectl.RunAsync("install", bundle, "--socket", socket, "--json", "--probation", "1");
        Assert.True(install.Code == 0, install.Stderr);
        using (var result = JsonDocument.Parse(install.Stdout))
        {
            Assert.Equal("Active", result.RootElement.GetProperty("state").GetString());
            Assert.Equal("1.0.0", result.RootElement.GetProperty("version").GetString());
        }

        var infer = await Edgectl.RunAsync("infer", "vibration", "--input", Path.Combine(AppContext.BaseDirectory, "samples", "request.json"), "--socket", socket);
        Assert.True(infer.Code == 0, infer.Stderr);
        using (var status = JsonDocument.Parse((await Edgectl.RunAsync("status", "--socket", socket, "--json")).Stdout))
        {
            Assert.Equal("vibration", status.RootElement.GetProperty("pinned")[0].GetProperty("name").GetString());
        }

        // A copy whose model bytes were changed after signing: refused with the reason, nothing changes on the device.
        var tampered = Path.Combine(_work, "tampered.edgebundle");
        var bytes = await File.ReadAllBytesAsync(bundle, TestContext.Current.CancellationToken);
        var at = bytes.AsSpan().IndexOf("Vibration classifier"u8);
        Assert.True(at > 0);
        bytes[at] = (byte)'X';
        await File.WriteAllBytesAsync(tampered, bytes, TestContext.Current.CancellationToken);
        var refused = await Edgectl.RunAsync("install", tampered, "--socket", socket);
        Assert.Equal(3, refused.Code);
        Assert.Contains("rejected: hash-mismatch", refused.Stderr, StringComparison.Ordinal);
        Assert.Single(refused.Stderr.Trim().Split('\n'));

        // The self-check: the broker is away (air-gapped) and the CUDA preference fell back to CPU, both said out loud.
        var check = await Edgectl.RunAsync("check", "--socket", socket, "--json");
        Assert.Equal(1, check.Code);
        using (var result = JsonDocument.Parse(check.Stdout))
        {
            var checks = result.RootElement.GetProperty("checks").EnumerateArray().ToList();
            Assert.False(result.RootElement.GetProperty("ok").GetBoolean());
            Assert.Contains(checks, c => c.GetProperty("name").GetString() == "broker" && c.GetProperty("status").GetString() == "fail");
            var provider = Assert.Single(checks, c => c.GetProperty("name").GetString() == "execution provider");
            Assert.Equal("warn", provider.GetProperty("status").GetString());
            Assert.StartsWith("vibration 1.0.0 runs on CPU: CUDA unavailable", provider.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Contains(checks, c => c.GetProperty("name").GetString() == "model vibration" && c.GetProperty("status").GetString() == "ok");
            Assert.Contains(checks, c => c.GetProperty("name").GetString() == "reconcile loop" && c.GetProperty("status").GetString() == "ok");
            var gpio = Assert.Single(checks, c => c.GetProperty("name").GetString() == "gpio");
            Assert.Equal(File.Exists("/dev/gpiochip0") ? "ok" : "warn", gpio.GetProperty("status").GetString());
        }

        var release = await Edgectl.RunAsync("release", "vibration", "--socket", socket);
        Assert.True(release.Code == 0, release.Stderr);
        var again = await Edgectl.RunAsync("release", "vibration", "--socket", socket);
        Assert.Equal(1, again.Code);
        Assert.Contains("not pinned", again.Stderr, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        if (_agent is not null)
        {
            await _agent.StopAsync(CancellationToken.None);
            await _agent.DisposeAsync();
        }

        Directory.Delete(_work, recursive: true);
    }
}
