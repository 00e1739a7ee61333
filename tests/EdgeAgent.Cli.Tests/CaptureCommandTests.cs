using System.Text.Json;
using EdgeAgent.Fleet.Keys;
using EdgeAgent.Fleet.Mqtt;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Cli.Tests;

/// <summary><c>edgectl capture export</c>: captured samples leave the device as JSON lines a training job can read.</summary>
public sealed class CaptureCommandTests : IAsyncDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("edgectl-capture-").FullName;
    private Microsoft.AspNetCore.Builder.WebApplication? _agent;

    [Fact]
    public async Task Export_writes_every_captured_sample_and_purge_empties_the_device()
    {
        var keys = SigningKeys.Generate(_work, "release");
        var socket = Path.Combine(_work, "api.sock");
        _agent = Agent.AgentHost.Build(
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Agent:DeviceId"] = "capture-1",
                ["Agent:StateDirectory"] = Path.Combine(_work, "state"),
                ["Agent:ApiSocket"] = socket,
                ["Agent:ProbationSeconds"] = "0",
                ["Mqtt:Url"] = $"mqtt://127.0.0.1:{EmbeddedBroker.FreePort()}",
                ["Trust:PublicKeys:0"] = keys.PublicKeyPath,
                ["Capture:Enabled"] = "true",
                ["Capture:LowConfidence:0:Model"] = "vibration",
                ["Capture:LowConfidence:0:Output"] = "probabilities",
                ["Capture:LowConfidence:0:Below"] = "1.1",
            }).Build(),
            logging => logging.ClearProviders());
        await Task.Run(() => _agent.StartAsync(TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        var bundle = Path.Combine(_work, "vibration-1.0.0.edgebundle");
        Assert.Equal(0, (await Edgectl.RunAsync("bundle", "create", "--model", Path.Combine(AppContext.BaseDirectory, "samples", "vibration.onnx"), "--name", "vibration", "--version", "1.0.0", "--key", keys.PrivateKeyPath, "--out", bundle)).Code);
        var install = await Edgectl.RunAsync("install", bundle, "--socket", socket, "--json", "--probation", "0");
        Assert.True(install.Code == 0, install.Stderr);
        for (var i = 0; i < 3; i++)
        {
            var infer = await Edgectl.RunAsync("infer", "vibration", "--input", Path.Combine(AppContext.BaseDirectory, "samples", "request.json"), "--socket", socket);
            Assert.True(infer.Code == 0, infer.Stderr);
        }

        // Capture writes in the background: wait until the agent holds all three.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await Samples(socket)) < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        var output = Path.Combine(_work, "export");
        var export = await Edgectl.RunAsync("capture", "export", "--out", output, "--purge", "--json", "--socket", socket);

        Assert.True(export.Code == 0, export.Stderr);
        using var manifest = JsonDocument.Parse(export.Stdout);
        Assert.Equal(3, manifest.RootElement.GetProperty("samples").GetInt32());
        Assert.Equal(3, manifest.RootElement.GetProperty("purged").GetInt32());
        var lines = await File.ReadAllLinesAsync(Path.Combine(output, "vibration", "1.0.0", "samples.jsonl"), TestContext.Current.CancellationToken);
        Assert.Equal(3, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        Assert.Equal("low-confidence", first.RootElement.GetProperty("reason").GetString());
        Assert.True(File.Exists(Path.Combine(output, "manifest.json")));
        Assert.Equal(0, await Samples(socket));

        // Each line's request is a valid inference request again: replay it through edgectl.
        var replay = Path.Combine(_work, "replay.json");
        await File.WriteAllTextAsync(replay, first.RootElement.GetProperty("request").GetRawText(), TestContext.Current.CancellationToken);
        var again = await Edgectl.RunAsync("infer", "vibration", "--input", replay, "--socket", socket);
        Assert.True(again.Code == 0, again.Stderr);
        using var answer = JsonDocument.Parse(again.Stdout);
        Assert.Equal([0L, 1L, 2L], answer.RootElement.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "label").GetProperty("data").EnumerateArray().Select(e => e.GetInt64()));
    }

    private static async Task<int> Samples(string socket)
    {
        var status = await Edgectl.RunAsync("status", "--socket", socket, "--json");
        using var doc = JsonDocument.Parse(status.Stdout);
        return doc.RootElement.GetProperty("capture").GetProperty("samples").GetInt32();
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
