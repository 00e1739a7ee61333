using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using EdgeAgent.Agent.Tests.Infrastructure;
using EdgeAgent.Core.Mqtt;
using EdgeAgent.Fleet.Bundles;
using EdgeAgent.Fleet.Keys;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Agent.Tests.Crash;

/// <summary>
/// Shared by the crash-point tests: one broker with bundles 1.0.0 and 2.0.0 published in small chunks (so a download
/// has several chunk writes to die in), and a state folder in which 1.0.0 is Active, made once by a real agent process.
/// </summary>
public sealed class CrashFixture : IAsyncLifetime
{
    public const string Model = "vibration";
    public const int ChunkSize = 256;

    private readonly ConcurrentDictionary<string, byte[]> _reported = new(StringComparer.Ordinal);

    public string Work { get; } = Directory.CreateTempSubdirectory("edgeagent-crash-").FullName;

    public TestBroker Broker { get; private set; } = null!;

    public FleetConnection Operator { get; private set; } = null!;

    public SigningKeys.KeyPairFiles Keys { get; private set; } = null!;

    /// <summary>A state folder with 1.0.0 Active; each test starts from a copy.</summary>
    public string Template => Path.Combine(Work, "template");

    public Topics Topics { get; } = new(Topics.DefaultPrefix);

    public async ValueTask InitializeAsync()
    {
        Broker = Environment.GetEnvironmentVariable("EDGEAGENT_TEST_BROKER") == "mosquitto" ? await TestBroker.MosquittoAsync(Work) : await TestBroker.EmbeddedAsync();
        Operator = await FleetConnection.ConnectAsync(Broker.Url);
        Operator.MessageReceived += (topic, payload) =>
        {
            if (topic.EndsWith("/reported", StringComparison.Ordinal))
            {
                _reported[topic] = payload;
            }
        };
        await Operator.WatchAsync("edgeagent/v1/devices/+/reported");
        Keys = SigningKeys.Generate(Path.Combine(Work, "keys"), "release");
        await PublishBundleAsync("1.0.0", AgentRig.SampleModel);
        await PublishBundleAsync("2.0.0", AgentRig.WriteModelVariant(2, Work));

        await SetDesiredAsync("template", "1.0.0");
        await using var agent = await AgentProcess.StartAsync(Config("template", Template));
        await WaitForAsync("template", "Active", "1.0.0", agent);
    }

    public async Task PublishBundleAsync(string version, string modelPath)
    {
        using var key = SigningKeys.LoadPrivate(Keys.PrivateKeyPath);
        var bundle = BundleBuilder.Create(new BundleBuilder.Request
        {
            ModelPath = modelPath,
            Name = Model,
            Version = version,
            Keys = [key],
            ChunkSize = ChunkSize,
            OutPath = Path.Combine(Work, $"{Model}-{version}.edgebundle"),
        });
        await BundlePublisher.PublishAsync(Operator, bundle.Path, null, null);
    }

    public async Task SetDesiredAsync(string deviceId, string version) =>
        await Operator.PublishAsync(Topics.DeviceDesired(deviceId), Encoding.UTF8.GetBytes($$"""{"models":[{"name":"{{Model}}","version":"{{version}}"}]}"""), retain: true);

    public string Config(string deviceId, string stateDirectory) =>
        AgentProcess.WriteConfig(Path.Combine(Work, deviceId + ".json"), new
        {
            Agent = new
            {
                DeviceId = deviceId,
                StateDirectory = stateDirectory,
                ApiSocket = Socket(deviceId),
                FetchTimeoutSeconds = 5,
                RetryIntervalSeconds = 1,
                ProbationSeconds = 1,
            },
            Mqtt = new { Url = Broker.Url, MaxReconnectDelaySeconds = 1 },
            Trust = new { PublicKeys = new[] { Keys.PublicKeyPath } },
            Telemetry = new { WindowSeconds = 0.5, HealthIntervalSeconds = 1 },
            Logging = new { LogLevel = new { Default = "Warning" } },
        });

    public string Socket(string deviceId) => Path.Combine(Work, deviceId + ".sock");

    /// <summary>The model entry of the device's latest retained <c>reported</c> document.</summary>
    public JsonElement? Reported(string deviceId)
    {
        if (!_reported.TryGetValue(Topics.Reported(deviceId), out var payload) || payload.Length == 0)
        {
            return null;
        }

        using var doc = JsonDocument.Parse(payload);
        foreach (var m in doc.RootElement.GetProperty("models").EnumerateArray())
        {
            if (m.GetProperty("name").GetString() == Model)
            {
                return m.Clone();
            }
        }

        return null;
    }

    public async Task<JsonElement> WaitForAsync(string deviceId, string state, string version, AgentProcess agent)
    {
        JsonElement found = default;
        try
        {
            await Wait.UntilAsync(
                () =>
                {
                    if (Reported(deviceId) is { } m && m.GetProperty("state").GetString() == state && m.GetProperty("activeVersion").GetString() == version)
                    {
                        found = m;
                        return true;
                    }

                    return false;
                },
                TimeSpan.FromSeconds(60),
                $"{deviceId}: {Model} {version} {state}");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} (last reported: {Reported(deviceId)}; agent exited: {agent.HasExited}; output:\n{agent.Output})", ex);
        }

        return found;
    }

    public async ValueTask DisposeAsync()
    {
        await Operator.DisposeAsync();
        await Broker.DisposeAsync();
        try
        {
            Directory.Delete(Work, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
