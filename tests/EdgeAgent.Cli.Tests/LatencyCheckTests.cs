using System.Text.Json;
using EdgeAgent.Fleet.Keys;
using EdgeAgent.Fleet.Mqtt;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Cli.Tests;

/// <summary><c>edgectl check</c> holds each serving model to <c>Serving:LatencySloMilliseconds</c> on its staging warm-up.</summary>
public sealed class LatencyCheckTests : IAsyncDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("edgectl-slo-").FullName;
    private Microsoft.AspNetCore.Builder.WebApplication? _agent;

    [Theory]
    [InlineData("60000", "ok")]
    [InlineData("0.0001", "fail")]
    public async Task Check_reports_whether_the_warm_up_met_the_latency_budget(string slo, string expected)
    {
        var keys = SigningKeys.Generate(_work, "release");
        var socket = Path.Combine(_work, "api.sock");
        _agent = Agent.AgentHost.Build(
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Agent:DeviceId"] = "slo-1",
                ["Agent:StateDirectory"] = Path.Combine(_work, "state"),
                ["Agent:ApiSocket"] = socket,
                ["Agent:ProbationSeconds"] = "0",
                ["Mqtt:Url"] = $"mqtt://127.0.0.1:{EmbeddedBroker.FreePort()}",
                ["Trust:PublicKeys:0"] = keys.PublicKeyPath,
                ["Serving:LatencySloMilliseconds"] = slo,
            }).Build(),
            logging => logging.ClearProviders());
        await Task.Run(() => _agent.StartAsync(TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        var bundle = Path.Combine(_work, "vibration-1.0.0.edgebundle");
        Assert.Equal(0, (await Edgectl.RunAsync("bundle", "create", "--model", Path.Combine(AppContext.BaseDirectory, "samples", "vibration.onnx"), "--name", "vibration", "--version", "1.0.0", "--key", keys.PrivateKeyPath, "--out", bundle)).Code);
        var install = await Edgectl.RunAsync("install", bundle, "--socket", socket, "--json", "--probation", "0");
        Assert.True(install.Code == 0, install.Stderr);

        var check = await Edgectl.RunAsync("check", "--socket", socket, "--json");

        using var result = JsonDocument.Parse(check.Stdout);
        var latency = Assert.Single(result.RootElement.GetProperty("checks").EnumerateArray(), c => c.GetProperty("name").GetString() == "model latency");
        Assert.Equal(expected, latency.GetProperty("status").GetString());
        Assert.Contains("vibration 1.0.0: warm-up mean", latency.GetProperty("detail").GetString(), StringComparison.Ordinal);
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
