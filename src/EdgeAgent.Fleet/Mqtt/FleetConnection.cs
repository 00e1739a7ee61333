using System.Buffers;
using System.Collections.Concurrent;
using EdgeAgent.Core.Mqtt;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeAgent.Fleet.Mqtt;

/// <summary>An operator-side MQTT 5 connection (edgectl, the demo, tests): publish with PUBACK, read retained topics, watch filters.</summary>
public sealed class FleetConnection : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly MqttClientFactory _factory = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<byte[]>> _waiters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string ResponseTopic, TaskCompletionSource<byte[]> Answer)> _requests = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _lost = new();

    private FleetConnection(IMqttClient client, BrokerAddress broker, Topics topics)
    {
        _client = client;
        Broker = broker;
        Topics = topics;
        _client.DisconnectedAsync += _ =>
        {
            _lost.Cancel();
            return Task.CompletedTask;
        };
        _client.ApplicationMessageReceivedAsync += e =>
        {
            var topic = e.ApplicationMessage.Topic;
            var payload = e.ApplicationMessage.Payload.ToArray();
            if (_waiters.TryGetValue(topic, out var waiter))
            {
                waiter.TrySetResult(payload);
            }

            if (e.ApplicationMessage.CorrelationData is { Length: > 0 } correlation
                && _requests.TryGetValue(Convert.ToHexString(correlation), out var request)
                && request.ResponseTopic == topic)
            {
                request.Answer.TrySetResult(payload);
            }

            MessageReceived?.Invoke(topic, payload);
            return Task.CompletedTask;
        };
    }

    public BrokerAddress Broker { get; }

    public Topics Topics { get; }

    public bool IsConnected => _client.IsConnected;

    /// <summary>The MQTT client id of this connection (as the broker sees it).</summary>
    public string ClientId => _client.Options?.ClientId ?? string.Empty;

    /// <summary>Cancelled when the connection drops (this connection does not reconnect).</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>Every message on the subscriptions made with <see cref="WatchAsync"/>.</summary>
    public event Action<string, byte[]>? MessageReceived;

    /// <param name="tls">CA bundle and client certificate for an mqtts:// broker; the system trust store and no client certificate when null.</param>
    public static async Task<FleetConnection> ConnectAsync(string brokerUrl, string topicPrefix = Topics.DefaultPrefix, string? clientId = null, string? username = null, string? password = null, BrokerTls? tls = null, CancellationToken cancellationToken = default) =>
        await ConnectCoreAsync(brokerUrl, topicPrefix, clientId, username, password, null, null, tls, cancellationToken);

    /// <summary>
    /// As <see cref="ConnectAsync"/>, with a retained will the broker publishes when this connection dies without a
    /// clean disconnect (an empty <paramref name="willPayload"/> clears the retained topic, as a rollout driver's lease does).
    /// </summary>
    public static async Task<FleetConnection> ConnectWithWillAsync(string brokerUrl, string topicPrefix, string? username, string? password, string willTopic, byte[] willPayload, BrokerTls? tls = null, CancellationToken cancellationToken = default) =>
        await ConnectCoreAsync(brokerUrl, topicPrefix, null, username, password, willTopic, willPayload, tls, cancellationToken);

    private static async Task<FleetConnection> ConnectCoreAsync(string brokerUrl, string topicPrefix, string? clientId, string? username, string? password, string? willTopic, byte[]? willPayload, BrokerTls? tls, CancellationToken cancellationToken)
    {
        var broker = BrokerAddress.Parse(brokerUrl);
        var client = new MqttClientFactory().CreateMqttClient();
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(broker.Host, broker.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(clientId ?? $"edgectl-{Guid.NewGuid():N}")
            .WithCleanStart(true)
            .WithTimeout(TimeSpan.FromSeconds(10));
        string? refused = null;
        if (tls is not null && !broker.UseTls)
        {
            throw new ArgumentException($"a CA file or client certificate needs a TLS broker URL (mqtts://), not {broker}", nameof(tls));
        }

        if (broker.UseTls)
        {
            builder = builder.WithTlsOptions(o =>
            {
                o.UseTls().WithSslProtocols(BrokerTls.Protocols);
                if (tls is not null)
                {
                    o.WithCertificateValidationHandler(e =>
                    {
                        var ok = tls.ValidateServer(e.Certificate, e.Chain, e.SslPolicyErrors, out var problem);
                        refused = problem;
                        return ok;
                    });
                    if (tls.ClientCertificate is { } client)
                    {
                        o.WithClientCertificates([client]);
                    }
                }
            });
        }

        if (willTopic is not null)
        {
            builder = builder.WithWillTopic(willTopic).WithWillPayload(willPayload ?? []).WithWillRetain(true).WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        }

        if (!string.IsNullOrEmpty(username))
        {
            builder = builder.WithCredentials(username, password);
        }

        try
        {
            var options = builder.Build();
            if (options.ChannelOptions is MqttClientTcpOptions tcp)
            {
                tcp.BufferSize = 65536;
                tcp.NoDelay = true;
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(15));
            await client.ConnectAsync(options, deadline.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            client.Dispose();
            throw new IOException($"cannot connect to broker {broker}: no answer within 15 s", ex);
        }
        catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or TimeoutException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException)
        {
            client.Dispose();
            throw new IOException($"cannot connect to broker {broker}: {refused ?? Cause(ex)}", ex);
        }

        return new FleetConnection(client, broker, new Topics(topicPrefix));
    }

    /// <summary>The innermost reason (connection refused, name not resolved, ...) rather than MQTTnet's wrapper text.</summary>
    public static string Cause(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.GetBaseException().Message;
    }

    /// <summary>Publishes with QoS 1; throws when the broker does not acknowledge.</summary>
    public async Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, bool retain, CancellationToken cancellationToken = default)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload.ToArray())
            .WithRetainFlag(retain)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        var result = await _client.PublishAsync(message, cancellationToken);
        if (result.ReasonCode is not (MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers))
        {
            throw new IOException($"broker refused {topic}: {result.ReasonCode} {result.ReasonString}");
        }
    }

    /// <summary>Reads a retained message; null when none arrives within <paramref name="timeout"/>.</summary>
    public async Task<byte[]?> ReadRetainedAsync(string topic, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var tcs = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters[topic] = tcs;
        try
        {
            await _client.SubscribeAsync(_factory.CreateSubscribeOptionsBuilder().WithTopicFilter(f => f.WithTopic(topic).WithAtLeastOnceQoS()).Build(), cancellationToken);
            try
            {
                return await tcs.Task.WaitAsync(timeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                return null;
            }
        }
        finally
        {
            _waiters.TryRemove(topic, out _);
            if (_client.IsConnected)
            {
                // Bounded: on a connection that just died, an UNSUBACK never comes.
                using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await _client.UnsubscribeAsync(_factory.CreateUnsubscribeOptionsBuilder().WithTopicFilter(topic).Build(), bounded.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException)
                {
                    // The connection is going away; nothing to clean up on the broker.
                }
            }
        }
    }

    /// <summary>
    /// MQTT 5 request/response: subscribes to <paramref name="responseTopic"/>, publishes <paramref name="payload"/> on
    /// <paramref name="topic"/> (QoS 1, not retained) with that response topic and <paramref name="correlationData"/>
    /// (16 random bytes when null), and returns the payload of the first message on the response topic that carries the
    /// same correlation data (null when none arrives within <paramref name="timeout"/>). When the broker reports that
    /// nobody subscribes to <paramref name="topic"/> (MQTT 5 PUBACK "no matching subscribers": the device is not
    /// connected), it returns at once with <see cref="RequestOutcome.NoSubscribers"/> set.
    /// </summary>
    public async Task<RequestOutcome> RequestAsync(string topic, ReadOnlyMemory<byte> payload, string responseTopic, TimeSpan timeout, byte[]? correlationData = null, CancellationToken cancellationToken = default)
    {
        correlationData ??= System.Security.Cryptography.RandomNumberGenerator.GetBytes(16);
        var key = Convert.ToHexString(correlationData);
        var answer = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_requests.TryAdd(key, (responseTopic, answer)))
        {
            throw new ArgumentException("a request with this correlation data is already waiting", nameof(correlationData));
        }

        try
        {
            await _client.SubscribeAsync(_factory.CreateSubscribeOptionsBuilder().WithTopicFilter(f => f.WithTopic(responseTopic).WithAtLeastOnceQoS()).Build(), cancellationToken);
            var message = new MqttApplicationMessageBuilder()
                .WithTopic(topic)
                .WithPayload(payload.ToArray())
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .WithContentType("application/json")
                .WithResponseTopic(responseTopic)
                .WithCorrelationData(correlationData)
                .Build();
            var result = await _client.PublishAsync(message, cancellationToken);
            if (result.ReasonCode == MqttClientPublishReasonCode.NoMatchingSubscribers)
            {
                return new RequestOutcome(null, NoSubscribers: true);
            }

            if (result.ReasonCode != MqttClientPublishReasonCode.Success)
            {
                throw new IOException($"broker refused {topic}: {result.ReasonCode} {result.ReasonString}");
            }

            try
            {
                return new RequestOutcome(await answer.Task.WaitAsync(timeout, cancellationToken), NoSubscribers: false);
            }
            catch (TimeoutException)
            {
                return new RequestOutcome(null, NoSubscribers: false);
            }
        }
        finally
        {
            _requests.TryRemove(key, out _);
            if (_client.IsConnected)
            {
                using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await _client.UnsubscribeAsync(_factory.CreateUnsubscribeOptionsBuilder().WithTopicFilter(responseTopic).Build(), bounded.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException)
                {
                    // The connection is going away; nothing to clean up on the broker.
                }
            }
        }
    }

    /// <summary>Subscribes to a filter (wildcards allowed); messages arrive on <see cref="MessageReceived"/>.</summary>
    public async Task WatchAsync(string filter, CancellationToken cancellationToken = default) =>
        await _client.SubscribeAsync(_factory.CreateSubscribeOptionsBuilder().WithTopicFilter(f => f.WithTopic(filter).WithAtLeastOnceQoS()).Build(), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            try
            {
                await _client.DisconnectAsync();
            }
            catch (MQTTnet.Exceptions.MqttCommunicationException)
            {
                // Gone already.
            }
        }

        _client.Dispose();
        _lost.Dispose();
    }
}
