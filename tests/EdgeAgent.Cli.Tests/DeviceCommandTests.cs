using System.Text.Json;
using EdgeAgent.Fleet.Keys;
using EdgeAgent.Fleet.Mqtt;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Cli.Tests;

/// <summary>edgectl's operator and device commands against a real broker and a real agent.</summary>
public sealed class DeviceCommandTests : IAsyncDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("edgectl-device-").FullName;
    private EmbeddedBroker? _broker;
    private Microsoft.AspNetCore.Builder.WebApplication? _agent;

    [Fact]
    public async Task Publish_deploy_status_and_infer_through_edgectl()
    {
        _broker = await EmbeddedBroker.StartAsync();
        var keys = SigningKeys.Generate(_work, "release");
        var socket = Path.Combine(_work, "api.sock");
        _agent = Agent.AgentHost.Build(
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Agent:DeviceId"] = "dev-7",
                ["Agent:StateDirectory"] = Path.Combine(_work, "state"),
                ["Agent:ApiSocket"] = socket,
                ["Agent:ProbationSeconds"] = "1",
                ["Mqtt:Url"] = _broker.Url,
                ["Trust:PublicKeys:0"] = keys.PublicKeyPath,
                ["Telemetry:WindowSeconds"] = "0.5",
            }).Build(),
            logging => logging.ClearProviders());
        await Task.Run(() => _agent.StartAsync(TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        var bundle = Path.Combine(_work, "vibration-1.0.0.edgebundle");
        Assert.Equal(0, (await Edgectl.RunAsync("bundle", "create", "--model", Path.Combine(AppContext.BaseDirectory, "samples", "vibration.onnx"), "--name", "vibration", "--version", "1.0.0", "--key", keys.PrivateKeyPath, "--out", bundle)).Code);

        var publish = await Edgectl.RunAsync("bundle", "publish", bundle, "--broker", _broker.Url, "--trust", keys.PublicKeyPath, "--json");
        Assert.True(publish.Code == 0, publish.Stderr);
        var deploy = await Edgectl.RunAsync("deploy", "--device", "dev-7", "--model", "vibration", "--version", "1.0.0", "--broker", _broker.Url);
        Assert.True(deploy.Code == 0, deploy.Stderr);

        JsonElement model = default;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var status = await Edgectl.RunAsync("status", "--socket", socket, "--json");
            Assert.Equal(0, status.Code);
            using var doc = JsonDocument.Parse(status.Stdout);
            var models = doc.RootElement.GetProperty("models");
            if (models.GetArrayLength() > 0 && models[0].GetProperty("state").GetString() == "Active")
            {
                model = models[0].Clone();
                break;
            }

            await Task.Delay(200, TestContext.Current.CancellationToken);
        }

        Assert.Equal("1.0.0", model.GetProperty("activeVersion").GetString());
        var infer = await Edgectl.RunAsync("infer", "vibration", "--input", Path.Combine(AppContext.BaseDirectory, "samples", "request.json"), "--socket", socket);
        Assert.True(infer.Code == 0, infer.Stderr);
        using var response = JsonDocument.Parse(infer.Stdout);
        Assert.Equal("vibration", response.RootElement.GetProperty("model_name").GetString());

        // The same rows as a NumPy array saved with numpy.save: same predictions.
        var npy = Path.Combine(_work, "features.npy");
        await File.WriteAllBytesAsync(npy, Npy(SampleRows(), 8), TestContext.Current.CancellationToken);
        var fromNpy = await Edgectl.RunAsync("infer", "vibration", "--input", npy, "--socket", socket);
        Assert.True(fromNpy.Code == 0, fromNpy.Stderr);
        using (var npyResponse = JsonDocument.Parse(fromNpy.Stdout))
        {
            var label = npyResponse.RootElement.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "label");
            Assert.Equal([0L, 1L, 2L], label.GetProperty("data").EnumerateArray().Select(e => e.GetInt64()));
        }

        var notNpy = Path.Combine(_work, "bad.npy");
        await File.WriteAllTextAsync(notNpy, "not numpy", TestContext.Current.CancellationToken);
        var refused = await Edgectl.RunAsync("infer", "vibration", "--input", notNpy, "--socket", socket);
        Assert.Equal(1, refused.Code);
        Assert.Contains("is not a .npy file", refused.Stderr, StringComparison.Ordinal);

        var listed = await Edgectl.RunAsync("models", "--socket", socket, "--json");
        Assert.True(listed.Code == 0, listed.Stderr);
        using (var list = JsonDocument.Parse(listed.Stdout))
        {
            var entry = Assert.Single(list.RootElement.EnumerateArray());
            Assert.Equal("1.0.0", entry.GetProperty("version").GetString());
            Assert.Equal("features", entry.GetProperty("inputs")[0].GetProperty("name").GetString());
            Assert.True(entry.GetProperty("requests").GetInt64() >= 1);
        }

        var table = await Edgectl.RunAsync("models", "--socket", socket);
        Assert.Contains("features FP32 [-1,8]", table.Stdout, StringComparison.Ordinal);

        var gpio = await Edgectl.RunAsync("gpio", "--socket", socket, "--json");
        Assert.True(gpio.Code == 0, gpio.Stderr);
        using (var pins = JsonDocument.Parse(gpio.Stdout))
        {
            Assert.False(pins.RootElement.GetProperty("enabled").GetBoolean());
            Assert.Equal(0, pins.RootElement.GetProperty("pins").GetArrayLength());
        }

        var gpioText = await Edgectl.RunAsync("gpio", "--socket", socket);
        Assert.Contains("GPIO is off", gpioText.Stdout, StringComparison.Ordinal);

        var human = await Edgectl.RunAsync("status", "--socket", socket);
        Assert.True(human.Stdout.Contains("vibration", StringComparison.Ordinal), human.Stdout);
        Assert.Contains("Active", human.Stdout, StringComparison.Ordinal);

        // The windows that counted the two inferences, and the outbox they went through.
        long counted = 0;
        deadline = DateTime.UtcNow.AddSeconds(30);
        while (counted < 2 && DateTime.UtcNow < deadline)
        {
            var metrics = await Edgectl.RunAsync("metrics", "--socket", socket, "--json", "--limit", "100");
            Assert.True(metrics.Code == 0, metrics.Stderr);
            using var doc = JsonDocument.Parse(metrics.Stdout);
            counted = doc.RootElement.GetProperty("windows").EnumerateArray().Sum(w => w.GetProperty("count").GetInt64());
            Assert.Equal(16L * 1024 * 1024, doc.RootElement.GetProperty("outbox").GetProperty("maxBytes").GetInt64());
            Assert.Equal(0, doc.RootElement.GetProperty("outbox").GetProperty("dropped").GetProperty("metrics").GetInt64());
        }

        Assert.Equal(2, counted);
        var metricsText = await Edgectl.RunAsync("metrics", "--socket", socket);
        Assert.True(metricsText.Code == 0, metricsText.Stderr);
        Assert.Contains("probabilities", metricsText.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"outbox: \d+ waiting \(.* of 16 MiB\), \d+ delivered, 0 dropped, last seq \d+", metricsText.Stdout);
        var badLimit = await Edgectl.RunAsync("metrics", "--socket", socket, "--limit", "0");
        Assert.Equal(1, badLimit.Code);
        Assert.Contains("limit must be a whole number from 1 to 100", badLimit.Stderr, StringComparison.Ordinal);
    }

    private static float[] SampleRows()
    {
        using var request = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "samples", "request.json")));
        return [.. request.RootElement.GetProperty("inputs")[0].GetProperty("data").EnumerateArray().Select(e => e.GetSingle())];
    }

    /// <summary>A float32 C-order array in .npy format 1.0, as numpy.save writes it.</summary>
    private static byte[] Npy(float[] values, int columns)
    {
        var dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({values.Length / columns}, {columns}), }}";
        var padded = dict.PadRight(((10 + dict.Length + 1 + 63) / 64 * 64) - 10 - 1) + "\n";
        using var stream = new MemoryStream();
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)padded.Length));
        stream.Write(System.Text.Encoding.ASCII.GetBytes(padded));
        foreach (var v in values)
        {
            stream.Write(BitConverter.GetBytes(v));
        }

        return stream.ToArray();
    }

    [Fact]
    public async Task Gpio_in_dry_run_shows_the_level_each_pin_would_have_been_driven_to()
    {
        _broker = await EmbeddedBroker.StartAsync();
        var keys = SigningKeys.Generate(_work, "release");
        var socket = Path.Combine(_work, "api.sock");
        _agent = Agent.AgentHost.Build(
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Agent:DeviceId"] = "dev-8",
                ["Agent:StateDirectory"] = Path.Combine(_work, "state"),
                ["Agent:ApiSocket"] = socket,
                ["Mqtt:Url"] = _broker.Url,
                ["Trust:PublicKeys:0"] = keys.PublicKeyPath,
                ["Gpio:Enabled"] = "true",
                ["Gpio:DryRun"] = "true",
                ["Gpio:StatusLedPin"] = "5",
            }).Build(),
            logging => logging.ClearProviders(),
            gpio: () => throw new InvalidOperationException("a dry run opens no GPIO chip"));
        await Task.Run(() => _agent.StartAsync(TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);

        // Connected to the broker, the LED shows ready: steady on, which in dry run is only logged.
        Edgectl.Result gpio;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            gpio = await Edgectl.RunAsync("gpio", "--socket", socket);
            Assert.True(gpio.Code == 0, gpio.Stderr);
        }
        while (!gpio.Stdout.Contains("status LED: ready", StringComparison.Ordinal) && DateTime.UtcNow < deadline);

        Assert.Contains("GPIO available, dry run (pins are logged, not driven); status LED: ready", gpio.Stdout, StringComparison.Ordinal);
        Assert.Contains("would be", gpio.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"5\s*│\s*Output\s*│\s*High\s*│\s*status LED", gpio.Stdout);
    }

    [Fact]
    public async Task Deploy_to_a_dead_broker_is_one_line_and_exit_1()
    {
        var port = EmbeddedBroker.FreePort();

        var deploy = await Edgectl.RunAsync("deploy", "--device", "d", "--model", "m", "--version", "1.0.0", "--broker", $"mqtt://127.0.0.1:{port}");

        Assert.Equal(1, deploy.Code);
        Assert.StartsWith($"edgectl: cannot connect to broker mqtt://127.0.0.1:{port}", deploy.Stderr.Trim(), StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        if (_agent is not null)
        {
            await _agent.StopAsync(CancellationToken.None);
            await _agent.DisposeAsync();
        }

        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }

        Directory.Delete(_work, recursive: true);
    }
}
