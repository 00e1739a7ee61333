using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using EdgeAgent.Agent.Json;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core;
using EdgeAgent.Core.Mqtt;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Polly;
using Polly.Retry;

namespace EdgeAgent.Agent.Mqtt;

/// <summary>
/// The agent's one MQTT connection (MQTT 5): birth and will on <c>status</c> with a session sequence, reconnect with
/// exponential backoff, standing subscriptions re-made on every connect, and short-lived waits for exact topics.
/// </summary>
public sealed class MqttSession : BackgroundService
{
    /// <summary>Receives a message on an exact topic; <paramref name="payload"/> is valid only during the call.</summary>
    internal delegate void MessageSink(string topic, ReadOnlySequence<byte> payload, bool retained);

    private readonly IMqttClient _client;
    private readonly MqttClientFactory _factory = new();
    private readonly AgentOptions _agent;
    private readonly MqttOptions _options;
    private readonly BrokerAddress _broker;
    private readonly SessionSequence _sequence;
    private readonly BrokerTlsState? _tls;
    private readonly ILogger<MqttSession> _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Action<IncomingMessage>> _standing = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, MessageSink> _waiters = new(StringComparer.Ordinal);
    private TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _standingGate = new();
    private bool _standingSubscribed;
    private string[] _standingFilters = [];
    private volatile bool _stopping;
    private long _reconnects;
    private long _connects;

    public MqttSession(IOptions<AgentOptions> agent, IOptions<MqttOptions> options, SessionSequence sequence, ILogger<MqttSession> logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(agent);
        ArgumentNullException.ThrowIfNull(options);
        _agent = agent.Value;
        _options = options.Value;
        _broker = BrokerAddress.Parse(_options.Url);
        _sequence = sequence;
        _logger = logger;
        _time = time;
        Topics = new Topics(_options.TopicPrefix);
        _tls = _broker.UseTls ? new BrokerTlsState(_options, time, logger) : null;
        _client = _factory.CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
        _client.DisconnectedAsync += OnDisconnectedAsync;

        // The device watches its own retained status: a late will of an older session must not leave it "offline".
        _standing[Topics.Status(_agent.DeviceId)] = OnOwnStatus;
    }

    /// <summary>Largest MQTT packet the agent accepts (MQTT 5 Maximum Packet Size): a chunk or envelope plus headers.</summary>
    public const uint MaximumPacketSize = 4 * 1024 * 1024;

    /// <summary>
    /// Most topic filters the agent puts in one SUBSCRIBE or UNSUBSCRIBE packet: AWS IoT Core refuses more than 8 per
    /// request, so longer lists go as several packets.
    /// </summary>
    public const int MaxFiltersPerPacket = 8;

    /// <summary>Longest wait for one publish, subscribe or unsubscribe before the session is considered wedged.</summary>
    public static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(15);

    public Topics Topics { get; }

    public string DeviceId => _agent.DeviceId;

    public bool IsConnected => _client.IsConnected;

    public long Reconnects => Interlocked.Read(ref _reconnects);

    public long SessionSeq { get; private set; }

    public string Broker => _broker.ToString();

    /// <summary>Certificate expiry and the last broker handshake (health and <c>/v1/status</c> <c>tls</c>); null for a plain mqtt:// broker.</summary>
    public BrokerTlsStatus? TlsStatus() => _tls?.Status();

    /// <summary>Raised after each successful connect, once birth and standing subscriptions are in place.</summary>
    public event EventHandler? Connected;

    /// <summary>Supplies the model list carried in the birth message.</summary>
    public Func<IReadOnlyList<BirthModel>>? BirthModels { get; set; }

    /// <summary>Completes when the session is connected (immediately if it is).</summary>
    public Task WhenConnectedAsync(CancellationToken cancellationToken) =>
        IsConnected ? Task.CompletedTask : Volatile.Read(ref _connected).Task.WaitAsync(cancellationToken);

    /// <summary>
    /// Keeps a subscription across reconnects and routes its messages to <paramref name="handler"/>, which runs on
    /// MQTTnet's receive loop: it must return quickly and must not wait for an MQTT operation. <paramref name="topic"/>
    /// may be a filter with <c>+</c> or <c>#</c> (e.g. <c>{p}/devices/{id}/cmd/+</c>).
    /// </summary>
    public void AddStandingSubscription(string topic, Action<IncomingMessage> handler)
    {
        ArgumentNullException.ThrowIfNull(topic);
        bool subscribeNow;
        lock (_standingGate)
        {
            _standing[topic] = handler;
            if (topic.Contains('+', StringComparison.Ordinal) || topic.Contains('#', StringComparison.Ordinal))
            {
                _standingFilters = [.. _standingFilters, topic];
            }

            subscribeNow = _standingSubscribed;
        }

        // Either the current session already made its standing subscriptions (so add this one now), or the next
        // connect will include it: the gate makes sure it is never missed between the two.
        if (subscribeNow)
        {
            _ = SubscribeQuietlyAsync([topic]);
        }
    }

    /// <summary>If the broker does not confirm, BoundedAsync drops the session and the next connect re-makes every standing subscription.</summary>
    private Task<bool> SubscribeQuietlyAsync(IReadOnlyList<string> topics) => SubscribeAsync(topics, CancellationToken.None);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = _time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(500),
                MaxDelay = TimeSpan.FromSeconds(_options.MaxReconnectDelaySeconds),
                OnRetry = args =>
                {
                    Log.ConnectFailed(_logger, Broker, args.AttemptNumber + 1, Math.Round(args.RetryDelay.TotalSeconds, 1), args.Outcome.Exception?.GetBaseException().Message ?? "unknown");
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await pipeline.ExecuteAsync(ConnectOnceAsync, stoppingToken);
                await Volatile.Read(ref _disconnected).Task.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }
    }

    private async ValueTask ConnectOnceAsync(CancellationToken cancellationToken)
    {
        if (_client.IsConnected)
        {
            // A session judged wedged (or one whose set-up failed half-way) is closed before a fresh one starts.
            await DropConnectionAsync();
        }

        Interlocked.Exchange(ref _disconnected, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var seq = _sequence.Next();
        var clientId = string.IsNullOrWhiteSpace(_options.ClientId) ? $"edge-agent-{_agent.DeviceId}" : _options.ClientId;
        var will = JsonSerializer.SerializeToUtf8Bytes(new StatusPayload(DeviceStatus.Offline, _agent.DeviceId, seq), AgentJson.Info<StatusPayload>());
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(_broker.Host, _broker.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(clientId)
            .WithCleanStart(true)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(_options.KeepAliveSeconds))
            // Nothing the agent reads is larger than a 1 MiB chunk or envelope: the broker must not push more at it.
            .WithMaximumPacketSize(MaximumPacketSize)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithWillTopic(Topics.Status(_agent.DeviceId))
            .WithWillPayload(will)
            .WithWillRetain(true)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithWillContentType("application/json");
        if (_tls is not null)
        {
            builder = _tls.Apply(builder);
        }

        if (!string.IsNullOrEmpty(_options.Username))
        {
            builder = builder.WithCredentials(_options.Username, Password());
        }

        var options = builder.Build();
        if (options.ChannelOptions is MqttClientTcpOptions tcp)
        {
            // The 8 KiB default makes large publishes crawl (shared/pitfalls.md).
            tcp.BufferSize = 65536;
            tcp.NoDelay = true;
        }

        // MQTTnet only honours its connect timeout through the token: a listener that never sends CONNACK (a half-open
        // load balancer, a dead broker behind a proxy) must not leave the device waiting forever.
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            deadline.CancelAfter(OperationTimeout);
            try
            {
                await _client.ConnectAsync(options, deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new MQTTnet.Exceptions.MqttCommunicationTimedOutException();
            }
        }

        SessionSeq = seq;
        if (Interlocked.Increment(ref _connects) > 1)
        {
            Interlocked.Increment(ref _reconnects);
        }

        Log.Connected(_logger, Broker, clientId, seq);
        if (!await PublishAsync(Topics.Status(_agent.DeviceId), Birth(seq), retain: true, cancellationToken))
        {
            // Without a birth the fleet would show this device offline: start over with a fresh session.
            await DropConnectionAsync();
            throw new MQTTnet.Exceptions.MqttCommunicationException("the broker did not acknowledge the birth message");
        }
        List<string> standing;
        lock (_standingGate)
        {
            standing = [.. _standing.Keys];
            _standingSubscribed = true;
        }

        var waiting = _waiters.Keys.ToList();
        if (standing.Count + waiting.Count > 0 && !await SubscribeAsync([.. standing, .. waiting], cancellationToken))
        {
            await DropConnectionAsync();
            throw new MQTTnet.Exceptions.MqttCommunicationException("the broker did not confirm the standing subscriptions");
        }

        Volatile.Read(ref _connected).TrySetResult();
        Connected?.Invoke(this, EventArgs.Empty);
    }

    /// <summary><c>Mqtt:PasswordFile</c> is read at every connect, so a rotated password takes effect at the next one.</summary>
    private string? Password()
    {
        if (string.IsNullOrEmpty(_options.PasswordFile))
        {
            return _options.Password;
        }

        var text = File.ReadAllText(_options.PasswordFile);
        return text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
    }

    private byte[] Birth(long seq) => JsonSerializer.SerializeToUtf8Bytes(
        new BirthPayload(DeviceStatus.Online, _agent.DeviceId, seq, AgentInfo.Version, _agent.Architecture, _time.GetUtcNow(), BirthModels?.Invoke() ?? []),
        AgentJson.Info<BirthPayload>());

    /// <summary>
    /// A will of an older session can reach the broker after this session's birth (a broker that noticed the old
    /// connection's death late, a bridge that delivers out of order) and then holds the retained status as "offline"
    /// while the device is up. The device sees it on its own status topic and publishes its birth again.
    /// </summary>
    private void OnOwnStatus(IncomingMessage message)
    {
        var current = SessionSeq;
        if (DeviceStatus.TryParse(message.Payload) is { IsOffline: true } status && status.Seq < current && _client.IsConnected && !_stopping)
        {
            Log.LateOfflineSuperseded(_logger, status.Seq, current);

            // Not from MQTTnet's receive loop: the publish waits for a PUBACK that this loop delivers.
            _ = Task.Run(() => PublishAsync(Topics.Status(_agent.DeviceId), Birth(current), retain: true, CancellationToken.None));
        }
    }

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs e)
    {
        // Keep one pending "connected" signal across failed reconnects, so that waiters wake at the next real connect.
        var current = Volatile.Read(ref _connected);
        if (current.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _connected, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), current);
        }

        lock (_standingGate)
        {
            _standingSubscribed = false;
        }

        if (e.ClientWasConnected && e.Reason != MqttClientDisconnectReason.NormalDisconnection)
        {
            Log.Disconnected(_logger, e.Exception?.Message ?? e.Reason.ToString());
        }

        Volatile.Read(ref _disconnected).TrySetResult();
        return Task.CompletedTask;
    }

    private Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        var received = e.ApplicationMessage;
        if (StandingHandler(received.Topic) is { } handler)
        {
            handler(new IncomingMessage(received.Topic, received.Payload.ToArray(), received.Retain)
            {
                ResponseTopic = received.ResponseTopic,
                CorrelationData = received.CorrelationData,
            });
        }

        // A waiter copies the payload itself (a chunk into a pooled buffer): it is only valid during this call.
        if (_waiters.TryGetValue(received.Topic, out var waiter))
        {
            waiter(received.Topic, received.Payload, received.Retain);
        }

        return Task.CompletedTask;
    }

    private Action<IncomingMessage>? StandingHandler(string topic)
    {
        if (_standing.TryGetValue(topic, out var handler))
        {
            return handler;
        }

        foreach (var filter in Volatile.Read(ref _standingFilters))
        {
            if (Topics.Matches(filter, topic) && _standing.TryGetValue(filter, out handler))
            {
                return handler;
            }
        }

        return null;
    }

    /// <summary>Publishes with QoS 1 and returns true only when the broker acknowledged it.</summary>
    public Task<bool> PublishAsync(string topic, byte[] payload, bool retain, CancellationToken cancellationToken) =>
        PublishAsync(topic, payload, retain, null, cancellationToken);

    /// <summary>
    /// Publishes the answer to an MQTT 5 request on its response topic (QoS 1, not retained) with the request's
    /// correlation data; true only when the broker acknowledged it.
    /// </summary>
    public Task<bool> PublishResponseAsync(string responseTopic, byte[]? correlationData, byte[] payload, CancellationToken cancellationToken) =>
        PublishAsync(responseTopic, payload, retain: false, correlationData, cancellationToken);

    private async Task<bool> PublishAsync(string topic, byte[] payload, bool retain, byte[]? correlationData, CancellationToken cancellationToken)
    {
        if (!_client.IsConnected)
        {
            return false;
        }

        var builder = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithRetainFlag(retain)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithContentType("application/json");
        if (correlationData is not null)
        {
            builder = builder.WithCorrelationData(correlationData);
        }

        var message = builder.Build();
        var result = await BoundedAsync("publish", topic, ct => _client.PublishAsync(message, ct), cancellationToken);
        return result?.ReasonCode is MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers;
    }

    /// <summary>
    /// Runs one MQTT operation with a deadline. A broker that stops answering must not wedge the agent: on timeout the
    /// connection is dropped, so the reconnect loop starts a fresh session. Returns null when the operation failed.
    /// </summary>
    private async Task<T?> BoundedAsync<T>(string operation, string topic, Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken)
        where T : class
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(OperationTimeout);
        try
        {
            return await action(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Log.OperationTimedOut(_logger, operation, topic, OperationTimeout);
            _ = DropConnectionAsync();
            return null;
        }
        catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException)
        {
            Log.PublishFailed(_logger, topic, ex.Message);
            return null;
        }
    }

    private async Task DropConnectionAsync()
    {
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.UnspecifiedError).Build(), deadline.Token);
        }
        catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or InvalidOperationException)
        {
            // Already gone; the reconnect loop takes over either way.
        }
        finally
        {
            Volatile.Read(ref _disconnected).TrySetResult();
        }
    }

    /// <summary>
    /// Subscribes with QoS 1, at most <see cref="MaxFiltersPerPacket"/> topics per SUBSCRIBE (the packets go out
    /// together); false when the broker did not confirm every one in time.
    /// </summary>
    internal async Task<bool> SubscribeAsync(IReadOnlyList<string> topics, CancellationToken cancellationToken)
    {
        if (topics.Count <= MaxFiltersPerPacket)
        {
            return await SubscribePacketAsync(topics, cancellationToken);
        }

        var results = await Task.WhenAll(topics.Chunk(MaxFiltersPerPacket).Select(packet => SubscribePacketAsync(packet, cancellationToken)));
        return results.All(ok => ok);
    }

    private async Task<bool> SubscribePacketAsync(IReadOnlyList<string> topics, CancellationToken cancellationToken)
    {
        var builder = _factory.CreateSubscribeOptionsBuilder();
        foreach (var topic in topics)
        {
            builder = builder.WithTopicFilter(f => f.WithTopic(topic).WithAtLeastOnceQoS());
        }

        var options = builder.Build();
        var result = await BoundedAsync("subscribe", topics[0], ct => _client.SubscribeAsync(options, ct), cancellationToken);
        if (result is null)
        {
            return false;
        }

        var refused = result.Items.FirstOrDefault(i => i.ResultCode > MqttClientSubscribeResultCode.GrantedQoS2);
        if (refused is not null)
        {
            // E.g. a broker ACL that does not let this device read the topic: say so instead of waiting in silence.
            Log.SubscribeRefused(_logger, refused.TopicFilter.Topic, refused.ResultCode.ToString());
            return false;
        }

        return true;
    }

    /// <summary>Unsubscribes, at most <see cref="MaxFiltersPerPacket"/> topics per UNSUBSCRIBE; a failure is logged and otherwise ignored.</summary>
    internal async Task UnsubscribeAsync(IReadOnlyList<string> topics)
    {
        if (!_client.IsConnected || topics.Count == 0)
        {
            return;
        }

        if (topics.Count > MaxFiltersPerPacket)
        {
            await Task.WhenAll(topics.Chunk(MaxFiltersPerPacket).Select(UnsubscribePacketAsync));
            return;
        }

        await UnsubscribePacketAsync(topics);
    }

    private async Task UnsubscribePacketAsync(IReadOnlyList<string> topics)
    {
        var builder = _factory.CreateUnsubscribeOptionsBuilder();
        foreach (var topic in topics)
        {
            builder = builder.WithTopicFilter(topic);
        }

        var options = builder.Build();
        await BoundedAsync("unsubscribe", topics[0], ct => _client.UnsubscribeAsync(options, ct), CancellationToken.None);
    }

    /// <summary>
    /// Subscribes to exact topics and collects the (retained) message of each until all arrived or
    /// <paramref name="timeout"/> passed. Returns what arrived; a missing topic is simply absent.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, IncomingMessage>> CollectAsync(IReadOnlyList<string> topics, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var waits = new Dictionary<string, (TaskCompletionSource<IncomingMessage> Tcs, MessageSink Sink)>(StringComparer.Ordinal);
        foreach (var topic in topics)
        {
            var tcs = new TaskCompletionSource<IncomingMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
            MessageSink sink = (t, payload, retained) => tcs.TrySetResult(new IncomingMessage(t, payload.ToArray(), retained));
            _waiters[topic] = sink;
            waits[topic] = (tcs, sink);
        }

        try
        {
            await WhenConnectedAsync(cancellationToken).WaitAsync(timeout, _time, cancellationToken);
            if (await SubscribeAsync(topics, cancellationToken))
            {
                try
                {
                    await Task.WhenAll(waits.Values.Select(w => w.Tcs.Task)).WaitAsync(timeout, _time, cancellationToken);
                }
                catch (TimeoutException)
                {
                    // Partial results are returned below.
                }
            }
        }
        catch (TimeoutException)
        {
            // Not connected in time: nothing arrived.
        }
        finally
        {
            foreach (var (topic, wait) in waits)
            {
                RemoveWaiter(topic, wait.Sink);
            }

            await UnsubscribeAsync(topics);
        }

        var result = new Dictionary<string, IncomingMessage>(StringComparer.Ordinal);
        foreach (var (topic, wait) in waits)
        {
            if (wait.Tcs.Task.IsCompletedSuccessfully)
            {
                result[topic] = wait.Tcs.Task.Result;
            }
        }

        return result;
    }

    /// <summary>
    /// A sliding window of exact topics for one reader (<see cref="TopicFeed"/>): topics are subscribed and unsubscribed
    /// a packet at a time while their messages are read as they arrive.
    /// </summary>
    public TopicFeed OpenFeed() => new(this, _time);

    /// <summary>Routes the messages of <paramref name="topic"/> to <paramref name="sink"/>; a reconnect subscribes the topic again until it is removed.</summary>
    internal void AddWaiter(string topic, MessageSink sink) => _waiters[topic] = sink;

    internal void RemoveWaiter(string topic, MessageSink sink) =>
        _waiters.TryRemove(new KeyValuePair<string, MessageSink>(topic, sink));

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        if (_client.IsConnected)
        {
            // A clean disconnect suppresses the will, so say goodbye ourselves.
            var offline = JsonSerializer.SerializeToUtf8Bytes(new StatusPayload(DeviceStatus.Offline, _agent.DeviceId, SessionSeq, "shutdown"), AgentJson.Info<StatusPayload>());
            await PublishAsync(Topics.Status(_agent.DeviceId), offline, retain: true, cancellationToken);
        }

        await base.StopAsync(cancellationToken);
        if (_client.IsConnected)
        {
            try
            {
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), cancellationToken);
            }
            catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
            {
                // Already gone.
            }
        }
    }

    public override void Dispose()
    {
        _client.Dispose();
        base.Dispose();
    }
}
