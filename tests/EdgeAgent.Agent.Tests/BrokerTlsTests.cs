using System.Collections.Concurrent;
using System.Text;
using EdgeAgent.Agent.Tests.Infrastructure;
using EdgeAgent.Core.Mqtt;
using MQTTnet;
using MQTTnet.Formatter;

namespace EdgeAgent.Agent.Tests;

/// <summary>
/// The shipped broker security (deploy-manifests/mosquitto: mutual TLS, certificate CN as user name, per-device ACL)
/// against a real mosquitto. Skipped (visibly) where mosquitto or openssl is not installed.
/// </summary>
public sealed class BrokerTlsTests : IAsyncLifetime
{
    private string? _work;
    private TlsMosquitto? _broker;

    public async ValueTask InitializeAsync()
    {
        if (TlsMosquitto.Missing() is null && !OperatingSystem.IsWindows())
        {
            _work = Directory.CreateTempSubdirectory("edgeagent-tls-").FullName;
            _broker = await TlsMosquitto.StartAsync(_work);
        }
    }

    private TlsMosquitto Broker
    {
        get
        {
            if (TlsMosquitto.Missing() is { } missing)
            {
                Assert.Skip(missing);
            }

            return _broker!;
        }
    }

    [Fact]
    public async Task Agent_deploys_over_mutual_TLS_and_reports_certificate_expiry()
    {
        var broker = Broker;
        await using var rig = await AgentRig.StartAsync(broker, deviceId: "dev-a", ownsBroker: false, overrides: new()
        {
            ["Mqtt:CaFile"] = Path.Combine(broker.Certs, "ca.crt"),
            ["Mqtt:ClientCertificateFile"] = Path.Combine(broker.Certs, "dev-a.crt"),
            ["Mqtt:ClientKeyFile"] = Path.Combine(broker.Certs, "dev-a.key"),
        });

        // The operator (CN operator) publishes the bundle and desired state; the device (CN dev-a) reads them under the ACL.
        await rig.DeployActiveAsync();

        await Wait.UntilAsync(() => rig.Messages("health").Any(h => h.RootElement.TryGetProperty("tls", out _)), Wait.Default, "a heartbeat with tls");
        var tls = rig.Messages("health").Last(h => h.RootElement.TryGetProperty("tls", out _)).RootElement.GetProperty("tls");
        // make-certs.sh gives leaf certificates 825 days and the CA 3650: the client certificate expires first.
        Assert.InRange(tls.GetProperty("daysLeft").GetInt32(), 823, 825);
        Assert.True(tls.GetProperty("clientCertificateExpires").GetDateTimeOffset() < tls.GetProperty("caExpires").GetDateTimeOffset());

        using var api = rig.Api();
        var (_, status) = await api.GetAsync("/v1/status");
        using (status)
        {
            var server = status.RootElement.GetProperty("tls").GetProperty("serverCertificate");
            Assert.True(server.GetProperty("valid").GetBoolean());
            Assert.Equal("CN=localhost", server.GetProperty("subject").GetString());
        }
    }

    [Fact]
    public async Task A_device_certificate_cannot_read_another_devices_desired_state()
    {
        var broker = Broker;
        await using (var operatorConnection = await broker.ConnectAsync("operator"))
        {
            await operatorConnection.PublishAsync("edgeagent/v1/devices/dev-b/desired", Encoding.UTF8.GetBytes("""{"models":{"secret":"1.0.0"}}"""), retain: true, TestContext.Current.CancellationToken);
            await operatorConnection.PublishAsync("edgeagent/v1/devices/dev-a/desired", Encoding.UTF8.GetBytes("""{"models":{}}"""), retain: true, TestContext.Current.CancellationToken);
        }

        var received = new ConcurrentQueue<string>();
        using var devA = await ConnectRawAsync(broker, "dev-a");
        devA.ApplicationMessageReceivedAsync += e =>
        {
            received.Enqueue(e.ApplicationMessage.Topic);
            return Task.CompletedTask;
        };

        // mosquitto's acl_file does not check subscriptions (SUBACK grants them); it checks each delivery, retained ones included.
        await devA.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("edgeagent/v1/devices/dev-b/desired").Build(), TestContext.Current.CancellationToken);

        // Its own retained desired state arrives: had the other one been delivered, it would have come first.
        await devA.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("edgeagent/v1/devices/dev-a/desired").Build(), TestContext.Current.CancellationToken);
        await Wait.UntilAsync(() => received.Contains("edgeagent/v1/devices/dev-a/desired"), Wait.Default, "dev-a's own desired state");
        Assert.DoesNotContain("edgeagent/v1/devices/dev-b/desired", received);

        // Nor may a device write desired state, its own included.
        var write = await devA.PublishStringAsync("edgeagent/v1/devices/dev-a/desired", """{"models":{"forged":"9.9.9"}}""", MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce, retain: true, TestContext.Current.CancellationToken);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, write.ReasonCode);
    }

    [Fact]
    public async Task A_device_certificate_cannot_publish_to_another_devices_topics()
    {
        var broker = Broker;
        var seen = new ConcurrentQueue<(string Topic, string Payload)>();
        await using var operatorConnection = await broker.ConnectAsync("operator");
        operatorConnection.MessageReceived += (topic, payload) => seen.Enqueue((topic, Encoding.UTF8.GetString(payload)));
        await operatorConnection.WatchAsync("edgeagent/v1/devices/#", TestContext.Current.CancellationToken);

        using var devA = await ConnectRawAsync(broker, "dev-a");
        var forged = await devA.PublishStringAsync("edgeagent/v1/devices/dev-b/status", """{"state":"offline","deviceId":"dev-b","seq":999}""", MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, forged.ReasonCode);

        // Its own events topic is allowed; publishes of one client reach a subscriber in order, so once this marker is
        // seen the forged status would have been seen too.
        var marker = await devA.PublishStringAsync("edgeagent/v1/devices/dev-a/events", """{"marker":true}""", MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(MqttClientPublishReasonCode.Success, marker.ReasonCode);
        await Wait.UntilAsync(() => seen.Any(m => m.Topic == "edgeagent/v1/devices/dev-a/events"), Wait.Default, "dev-a's own event at the operator");
        Assert.DoesNotContain(seen, m => m.Topic.StartsWith("edgeagent/v1/devices/dev-b/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_client_without_a_certificate_is_refused_at_connect()
    {
        var broker = Broker;
        var refused = await Assert.ThrowsAsync<IOException>(() => broker.ConnectAsync(client: null));
        Assert.Contains("cannot connect to broker", refused.Message, StringComparison.Ordinal);

        // The same CA with the operator's certificate gets in: the refusal was about the missing certificate.
        await using var accepted = await broker.ConnectAsync("operator");
        Assert.True(accepted.IsConnected);
    }

    [Fact]
    public async Task A_broker_certificate_from_another_CA_is_refused_by_the_client()
    {
        var broker = Broker;
        var refused = await Assert.ThrowsAsync<IOException>(() => broker.ConnectAsync("operator", caFile: Path.Combine(broker.Certs, "other", "ca.crt")));
        Assert.Contains("certificate chain of CN=localhost is not valid", refused.Message, StringComparison.Ordinal);
    }

    private static async Task<IMqttClient> ConnectRawAsync(TlsMosquitto broker, string client)
    {
        var tls = broker.Tls(client);
        var mqtt = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", broker.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId($"{client}-probe-{Guid.NewGuid():N}")
            .WithTlsOptions(o => o.UseTls()
                .WithSslProtocols(BrokerTls.Protocols)
                .WithCertificateValidationHandler(e => tls.ValidateServer(e.Certificate, e.Chain, e.SslPolicyErrors, out _))
                .WithClientCertificates([tls.ClientCertificate!]))
            .Build();
        await mqtt.ConnectAsync(options, TestContext.Current.CancellationToken);
        return mqtt;
    }

    public async ValueTask DisposeAsync()
    {
        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }

        if (_work is not null)
        {
            Directory.Delete(_work, recursive: true);
        }
    }
}
