using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Fleet.Bundles;
using EdgeAgent.Fleet.Keys;
using EdgeAgent.Fleet.Mqtt;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Agent.Tests.Infrastructure;

/// <summary>
/// One device under test with real parts: a broker, a temporary state folder, a signing key, the real agent host
/// (MQTT, ONNX Runtime, LiteDB, unix-socket API), and an operator connection watching everything the device publishes.
/// </summary>
public sealed class AgentRig : IAsyncDisposable
{
    public const string DeviceId = "dev-1";
    public const string Model = "vibration";

    /// <summary>The topics the outbox publishes on (records carry the device-wide <c>seq</c>).</summary>
    public static readonly string[] OutboxTopics = ["metrics", "events", "drift"];

    private readonly ConcurrentQueue<(string Topic, byte[] Payload)> _messages = new();
    private readonly Dictionary<string, string?> _overrides;
    private readonly bool _ownsBroker;

    private AgentRig(TestBroker broker, string work, Dictionary<string, string?> overrides, string id, bool ownsBroker)
    {
        Broker = broker;
        Id = id;
        _ownsBroker = ownsBroker;
        Work = work;
        _overrides = overrides;
        Keys = SigningKeys.Generate(Path.Combine(work, "keys"), "release");
        StateDirectory = Path.Combine(work, "state");
        Socket = Path.Combine(work, "api.sock");
    }

    public TestBroker Broker { get; private set; }

    /// <summary>This rig's device id (<see cref="DeviceId"/> unless the test gave another, e.g. for a fleet of rigs on one broker).</summary>
    public string Id { get; }

    public string Work { get; }

    public SigningKeys.KeyPairFiles Keys { get; }

    public string StateDirectory { get; }

    public string Socket { get; }

    public WebApplication? Agent { get; private set; }

    /// <summary>Creates the agent's GPIO controller (e.g. over a <see cref="SimulatedGpioDriver"/>); the board's own when null.</summary>
    public Hardware.GpioControllerFactory? Gpio { get; set; }

    /// <summary>Replaces agent services before the host is built (e.g. a shared <see cref="Serving.IModelLoader"/>); none when null.</summary>
    public Action<IServiceCollection>? Configure { get; set; }

    public FleetConnection? Operator { get; private set; }

    public ConcurrentQueue<string> Logs { get; } = new();

    public static string SampleModel => Path.Combine(AppContext.BaseDirectory, "samples", "vibration.onnx");

    public static string SampleRequest => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "samples", "request.json"));

    /// <param name="deviceId">Another device id than <see cref="DeviceId"/>.</param>
    /// <param name="ownsBroker">False when several rigs share <paramref name="broker"/>: disposing this rig leaves it running.</param>
    public static async Task<AgentRig> StartAsync(TestBroker? broker = null, Dictionary<string, string?>? overrides = null, bool startAgent = true, string deviceId = DeviceId, bool ownsBroker = true)
    {
        var work = Directory.CreateTempSubdirectory("edgeagent-test-").FullName;
        // EDGEAGENT_TEST_BROKER=mosquitto runs the whole agent suite against a mosquitto process instead.
        broker ??= Environment.GetEnvironmentVariable("EDGEAGENT_TEST_BROKER") == "mosquitto" ? await TestBroker.MosquittoAsync(work) : await TestBroker.EmbeddedAsync();
        var rig = new AgentRig(broker, work, overrides ?? [], deviceId, ownsBroker);
        await rig.ConnectOperatorAsync();
        if (startAgent)
        {
            await rig.StartAgentAsync();
        }

        return rig;
    }

    public async Task ConnectOperatorAsync()
    {
        if (Operator is not null)
        {
            await Operator.DisposeAsync();
        }

        using var tls = Broker.OperatorTls();
        Operator = await FleetConnection.ConnectAsync(Broker.Url, clientId: $"operator-{Guid.NewGuid():N}", tls: tls, cancellationToken: TestContext.Current.CancellationToken);
        Operator.MessageReceived += (topic, payload) => _messages.Enqueue((topic, payload));
        await Operator.WatchAsync($"edgeagent/v1/devices/{Id}/#", TestContext.Current.CancellationToken);
    }

    public async Task StartAgentAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Agent:DeviceId"] = Id,
            ["Agent:StateDirectory"] = StateDirectory,
            ["Agent:ApiSocket"] = Socket,
            ["Agent:FetchTimeoutSeconds"] = "5",
            ["Agent:RetryIntervalSeconds"] = "1",
            ["Agent:ProbationSeconds"] = "0",
            ["Mqtt:Url"] = Broker.Url,
            ["Mqtt:MaxReconnectDelaySeconds"] = "1",
            ["Trust:PublicKeys:0"] = Keys.PublicKeyPath,
            ["Telemetry:WindowSeconds"] = "0.5",
            ["Telemetry:HealthIntervalSeconds"] = "0.5",
        };
        foreach (var (key, value) in _overrides)
        {
            // A null override removes a default setting.
            if (value is null)
            {
                settings.Remove(key);
            }
            else
            {
                settings[key] = value;
            }
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        Agent = AgentHost.Build(configuration, logging =>
        {
            logging.ClearProviders();
            logging.SetMinimumLevel(LogLevel.Debug);
            logging.AddProvider(new ListLoggerProvider(Logs));
        }, gpio: Gpio, configure: Configure);
        // Start outside xunit's synchronization context: the agent is a daemon with its own threads, and letting its
        // continuations queue behind the test runner's few threads would stall it while other tests block.
        await Task.Run(() => Agent.StartAsync(TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
    }

    public async Task StopAgentAsync()
    {
        if (Agent is not null)
        {
            await Agent.StopAsync(CancellationToken.None);
            await Agent.DisposeAsync();
            Agent = null;
        }
    }

    /// <summary>Replaces the broker (e.g. after a simulated outage) and reconnects the operator.</summary>
    public async Task ReplaceBrokerAsync(TestBroker broker)
    {
        Broker = broker;
        await ConnectOperatorAsync();
    }

    public T Service<T>()
        where T : notnull => Agent!.Services.GetRequiredService<T>();

    public UnixSocketApi Api() => new(Socket);

    /// <summary>Builds a signed bundle of the sample model (optionally a byte-different but valid variant) with the rig's key.</summary>
    public BundleBuilder.Result BuildBundle(string version, int variant = 0, string? keyPath = null)
    {
        var model = variant == 0 ? SampleModel : ModelVariant(variant);
        using var key = SigningKeys.LoadPrivate(keyPath ?? Keys.PrivateKeyPath);
        return BundleBuilder.Create(new BundleBuilder.Request
        {
            ModelPath = model,
            Name = Model,
            Version = version,
            Keys = [key],
            OutPath = Path.Combine(Work, $"{Model}-{version}-{Guid.NewGuid():N}.edgebundle"),
        });
    }

    public static string FixtureModel(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", name);

    /// <summary>Builds a signed bundle of any model under the rig's model name.</summary>
    public BundleBuilder.Result BuildBundleOf(string modelPath, string version, string? acceptancePath = null, int chunkSize = Core.Bundles.ChunkTable.DefaultChunkSize)
    {
        using var key = SigningKeys.LoadPrivate(Keys.PrivateKeyPath);
        return BundleBuilder.Create(new BundleBuilder.Request
        {
            ModelPath = modelPath,
            Name = Model,
            Version = version,
            Keys = [key],
            AcceptancePath = acceptancePath,
            ChunkSize = chunkSize,
            OutPath = Path.Combine(Work, $"{Model}-{version}-{Guid.NewGuid():N}.edgebundle"),
        });
    }

    /// <summary>Publishes a raw desired-state document for this device (retained).</summary>
    public async Task PublishDesiredAsync(string json) =>
        await PublishRawAsync($"edgeagent/v1/devices/{DeviceId}/desired", Encoding.UTF8.GetBytes(json));

    /// <summary>
    /// A valid model whose bytes differ from the sample: same graph and weights, one character of the model's doc
    /// string changed, so its sha256 (and so its blob) is new.
    /// </summary>
    public string ModelVariant(int variant) => WriteModelVariant(variant, Work);

    public static string WriteModelVariant(int variant, string directory)
    {
        var bytes = File.ReadAllBytes(SampleModel);
        var marker = Encoding.ASCII.GetBytes("Vibration classifier");
        var at = bytes.AsSpan().IndexOf(marker);
        if (at < 0)
        {
            throw new InvalidDataException("sample model doc string not found");
        }

        bytes[at] = (byte)('A' + (variant % 26));
        var path = Path.Combine(directory, $"variant-{variant}.onnx");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public async Task PublishAsync(BundleBuilder.Result bundle) =>
        await BundlePublisher.PublishAsync(Operator!, bundle.Path, null, null, TestContext.Current.CancellationToken);

    public async Task DeployAsync(string version) =>
        await DesiredStateWriter.SetModelAsync(Operator!, Id, Model, version, TimeSpan.FromSeconds(0.5), TestContext.Current.CancellationToken);

    public async Task PublishRawAsync(string topic, byte[] payload, bool retain = true) =>
        await Operator!.PublishAsync(topic, payload, retain, TestContext.Current.CancellationToken);

    /// <summary>
    /// What the device published on <paramref name="leaf"/>, one document per message; on the outbox topics (metrics,
    /// events, drift) one document per record, a batch <c>{"records":[...]}</c> split into its records.
    /// </summary>
    public IEnumerable<JsonDocument> Messages(string leaf) =>
        OutboxTopics.Contains(leaf)
            ? RawMessages(leaf).SelectMany(m => Core.Telemetry.OutboxPayload.Records(m.RootElement).Select(r => JsonDocument.Parse(r.GetRawText())))
            : RawMessages(leaf);

    /// <summary>The messages on <paramref name="leaf"/> as published (batches whole).</summary>
    public IEnumerable<JsonDocument> RawMessages(string leaf) =>
        _messages.Where(m => m.Topic == $"edgeagent/v1/devices/{Id}/{leaf}" && m.Payload.Length > 0).Select(m => JsonDocument.Parse(m.Payload));

    public JsonDocument? LastMessage(string leaf) => Messages(leaf).LastOrDefault();

    /// <summary>The model entry of the latest retained <c>reported</c> document.</summary>
    public JsonElement? ReportedModel()
    {
        var doc = LastMessage("reported");
        if (doc is null)
        {
            return null;
        }

        foreach (var m in doc.RootElement.GetProperty("models").EnumerateArray())
        {
            if (m.GetProperty("name").GetString() == Model)
            {
                return m.Clone();
            }
        }

        return null;
    }

    public async Task<JsonElement> WaitForReportedAsync(string state, string version, TimeSpan? timeout = null)
    {
        JsonElement? found = null;
        try
        {
            await Wait.UntilAsync(
                () =>
                {
                    var m = ReportedModel();
                    if (m is { } model && model.GetProperty("state").GetString() == state && model.GetProperty("version").GetString() == version)
                    {
                        found = model;
                        return true;
                    }

                    return false;
                },
                timeout ?? Wait.Default,
                $"reported {Model} {version} {state}");
        }
        catch (TimeoutException ex)
        {
            // The diagnostics of the moment it gave up, not of the moment it started waiting.
            throw new TimeoutException($"{ex.Message} ({Diagnostics()})", ex);
        }

        return found!.Value;
    }

    /// <summary>What a failed wait shows: the last reported model, the agent's log, the broker's subscriptions.</summary>
    public string Diagnostics()
    {
        var subscriptions = Broker is TestBroker.Embedded e ? string.Join(", ", e.Broker.Subscriptions.Select(s => $"{s.ClientId}:{s.Topic}")) : "n/a";
        var topics = string.Join(", ", _messages.GroupBy(m => m.Topic).Select(g => $"{g.Key} x{g.Count()}"));
        var services = Agent is null ? "agent stopped" : string.Join(", ", Agent.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<Microsoft.Extensions.Hosting.BackgroundService>().Select(b => $"{b.GetType().Name}={b.ExecuteTask?.Status}:{b.ExecuteTask?.Exception?.GetBaseException().Message}"));
        var stopping = Agent?.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested;
        return $"services: {services}; stopping: {stopping}\nlast reported: {ReportedModel()?.ToString() ?? "none"}\nlogs:\n  {string.Join("\n  ", Logs)}\nsubscriptions: {subscriptions}\nmessages seen: {topics}";
    }

    /// <summary>Deploys the sample model and waits until it serves.</summary>
    public async Task<BundleBuilder.Result> DeployActiveAsync(string version = "1.0.0", int variant = 0)
    {
        var bundle = BuildBundle(version, variant);
        await PublishAsync(bundle);
        await DeployAsync(version);
        await WaitForReportedAsync("Active", version);
        return bundle;
    }

    public static string HashHex(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public Outbox Outbox => Service<Outbox>();

    public async ValueTask DisposeAsync()
    {
        await StopAgentAsync();
        if (Operator is not null)
        {
            await Operator.DisposeAsync();
        }

        if (_ownsBroker)
        {
            await Broker.DisposeAsync();
        }

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
