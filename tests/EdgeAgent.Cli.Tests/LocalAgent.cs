using System.Text.Json;
using EdgeAgent.Fleet.Keys;
using EdgeAgent.Fleet.Mqtt;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Cli.Tests;

/// <summary>
/// A real agent in the test process with its unix socket in <c>work</c>, a fresh signing key it trusts, and the sample
/// model installed as <c>vibration 1.0.0</c> with <c>edgectl install</c>. Without a broker URL it is air-gapped.
/// </summary>
internal sealed class LocalAgent : IAsyncDisposable
{
    private readonly Microsoft.AspNetCore.Builder.WebApplication _agent;

    private LocalAgent(Microsoft.AspNetCore.Builder.WebApplication agent, string socket, SigningKeys.KeyPairFiles keys)
    {
        _agent = agent;
        Socket = socket;
        Keys = keys;
    }

    public string Socket { get; }

    public SigningKeys.KeyPairFiles Keys { get; }

    public static async Task<LocalAgent> StartWithSampleAsync(string work, string deviceId, IReadOnlyDictionary<string, string?> settings, string? brokerUrl = null)
    {
        var keys = SigningKeys.Generate(work, "release");
        var socket = Path.Combine(work, "api.sock");
        var config = new Dictionary<string, string?>
        {
            ["Agent:DeviceId"] = deviceId,
            ["Agent:StateDirectory"] = Path.Combine(work, "state"),
            ["Agent:ApiSocket"] = socket,
            ["Agent:ProbationSeconds"] = "0",
            ["Mqtt:Url"] = brokerUrl ?? $"mqtt://127.0.0.1:{EmbeddedBroker.FreePort()}",
            ["Trust:PublicKeys:0"] = keys.PublicKeyPath,
        };
        foreach (var (key, value) in settings)
        {
            config[key] = value;
        }

        var agent = Agent.AgentHost.Build(new ConfigurationBuilder().AddInMemoryCollection(config).Build(), logging => logging.ClearProviders());
        await Task.Run(() => agent.StartAsync(TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        var local = new LocalAgent(agent, socket, keys);
        try
        {
            var bundle = Path.Combine(work, "vibration-1.0.0.edgebundle");
            var create = await Edgectl.RunAsync("bundle", "create", "--model", SampleModel, "--name", "vibration", "--version", "1.0.0", "--key", keys.PrivateKeyPath, "--out", bundle);
            Assert.True(create.Code == 0, create.Stderr);
            var install = await Edgectl.RunAsync("install", bundle, "--socket", socket, "--json", "--probation", "0");
            Assert.True(install.Code == 0, install.Stderr);
            return local;
        }
        catch
        {
            await local.DisposeAsync();
            throw;
        }
    }

    public static string SampleModel => Path.Combine(AppContext.BaseDirectory, "samples", "vibration.onnx");

    public static string SampleRequest => Path.Combine(AppContext.BaseDirectory, "samples", "request.json");

    /// <summary>Captured samples the agent holds now (<c>edgectl status --json</c>).</summary>
    public async Task<int> CapturedSamplesAsync()
    {
        var status = await Edgectl.RunAsync("status", "--socket", Socket, "--json");
        using var doc = JsonDocument.Parse(status.Stdout);
        return doc.RootElement.GetProperty("capture").GetProperty("samples").GetInt32();
    }

    /// <summary>Waits (polling <c>edgectl status</c>) until the agent holds <paramref name="count"/> captured samples.</summary>
    public async Task WaitForCapturedSamplesAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var samples = -1;
        while (DateTime.UtcNow < deadline)
        {
            samples = await CapturedSamplesAsync();
            if (samples == count)
            {
                return;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Fail($"the agent holds {samples} captured samples, expected {count}");
    }

    public async ValueTask DisposeAsync()
    {
        await _agent.StopAsync(CancellationToken.None);
        await _agent.DisposeAsync();
    }
}
