using System.Buffers;
using System.Threading.Channels;

namespace EdgeAgent.Agent.Mqtt;

/// <summary>
/// A sliding window of exact topics on the agent's session, for one reader: topics are subscribed a packet at a time
/// (<see cref="Subscribe"/>) and unsubscribed once done with (<see cref="Unsubscribe"/>) without waiting for the
/// broker's answers, while their messages are read one by one in arrival order (<see cref="ReadAsync"/>).
/// <see cref="Held"/> counts every topic from its SUBSCRIBE until the broker confirmed its UNSUBSCRIBE, so a caller that
/// keeps <see cref="Held"/> under a limit never has more subscriptions than that on the broker; each confirmed
/// UNSUBSCRIBE wakes the reader (<see cref="FeedMessage.Freed"/>). A topic stays registered with the session until it is
/// unsubscribed, so a reconnect subscribes it again. A SUBSCRIBE that the broker refuses or does not confirm while the
/// session is up ends the reading: <see cref="ReadAsync"/> returns null once the messages that arrived before are read.
/// Payloads are copied once, into pooled buffers that the reader gives back (<see cref="FeedMessage.Dispose"/>), so a
/// download does not churn the garbage collector. Disposing unsubscribes what is left.
/// </summary>
public sealed class TopicFeed : IAsyncDisposable
{
    private static readonly FeedMessage Refused = new(string.Empty, [], 0, freed: false);
    private static readonly FeedMessage RoomFreed = new(string.Empty, [], 0, freed: true);
    private readonly MqttSession _session;
    private readonly TimeProvider _time;
    private readonly Channel<FeedMessage> _arrived = Channel.CreateUnbounded<FeedMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly MqttSession.MessageSink _sink;
    private readonly HashSet<string> _topics = new(StringComparer.Ordinal);

    /// <summary>The SUBSCRIBE under way (or done) for each topic: its UNSUBSCRIBE is sent only after the broker confirmed it.</summary>
    private readonly Dictionary<string, Task> _subscribes = new(StringComparer.Ordinal);
    private readonly List<Task> _operations = [];
    private int _held;

    internal TopicFeed(MqttSession session, TimeProvider time)
    {
        _session = session;
        _time = time;
        _sink = (topic, payload, _) =>
        {
            var length = checked((int)payload.Length);
            var buffer = ArrayPool<byte>.Shared.Rent(length);
            payload.CopyTo(buffer);
            _arrived.Writer.TryWrite(new FeedMessage(topic, buffer, length, freed: false));
        };
    }

    /// <summary>Topics subscribed whose UNSUBSCRIBE the broker has not confirmed yet: at least what the broker holds for this feed.</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>
    /// Starts one SUBSCRIBE (QoS 1) for <paramref name="topics"/> (at most <see cref="MqttSession.MaxFiltersPerPacket"/>,
    /// so that it is one packet) and returns without waiting for the SUBACK. While the session is down the topics are
    /// only registered: the next connect subscribes them.
    /// </summary>
    public void Subscribe(IReadOnlyList<string> topics, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(topics);
        foreach (var topic in topics)
        {
            if (_topics.Add(topic))
            {
                Interlocked.Increment(ref _held);
            }

            _session.AddWaiter(topic, _sink);
        }

        if (_session.IsConnected)
        {
            // Sent from the thread pool: the reader goes on with the messages already here meanwhile.
            var subscribe = Task.Run(() => ConfirmAsync(_session.SubscribeAsync(topics, cancellationToken)), CancellationToken.None);
            Track(subscribe);
            foreach (var topic in topics)
            {
                _subscribes[topic] = subscribe;
            }
        }
    }

    /// <summary>
    /// Stops reading <paramref name="topics"/> and starts their UNSUBSCRIBE without waiting for the answer; once the
    /// broker confirmed it (or the session is gone), <see cref="Held"/> drops and the reader is woken.
    /// </summary>
    public void Unsubscribe(IReadOnlyList<string> topics)
    {
        var (released, subscribes) = Release(topics);
        Track(Task.Run(
            async () =>
            {
                try
                {
                    await Task.WhenAll(subscribes).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    await _session.UnsubscribeAsync(topics);
                }
                finally
                {
                    Interlocked.Add(ref _held, -released);
                    _arrived.Writer.TryWrite(RoomFreed);
                }
            },
            CancellationToken.None));
    }

    /// <summary>
    /// Stops reading <paramref name="topics"/> and waits for the UNSUBACK: needed before the same topic is subscribed
    /// again, so that the broker does not take the UNSUBSCRIBE after the new SUBSCRIBE.
    /// </summary>
    public async Task UnsubscribeAsync(IReadOnlyList<string> topics)
    {
        var (released, subscribes) = Release(topics);
        try
        {
            await Task.WhenAll(subscribes).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await _session.UnsubscribeAsync(topics);
        }
        finally
        {
            Interlocked.Add(ref _held, -released);
        }
    }

    /// <summary>
    /// Stops reading <paramref name="topics"/>; gives how many were held and the SUBSCRIBEs to wait for before the
    /// UNSUBSCRIBE (a message can arrive before its SUBSCRIBE is even sent, e.g. a copy still on its way from an earlier
    /// subscription to the same topic, and the broker must not see the UNSUBSCRIBE first).
    /// </summary>
    private (int Released, Task[] Subscribes) Release(IReadOnlyList<string> topics)
    {
        ArgumentNullException.ThrowIfNull(topics);
        var released = 0;
        var subscribes = new HashSet<Task>();
        foreach (var topic in topics)
        {
            if (_topics.Remove(topic))
            {
                released++;
            }

            if (_subscribes.Remove(topic, out var subscribe))
            {
                subscribes.Add(subscribe);
            }

            _session.RemoveWaiter(topic, _sink);
        }

        return (released, [.. subscribes]);
    }

    /// <summary>
    /// The next message on a subscribed topic, in arrival order (a topic may deliver its retained message more than
    /// once, e.g. after a reconnect), or a <see cref="FeedMessage.Freed"/> signal; null when nothing came within
    /// <paramref name="timeout"/> or a SUBSCRIBE failed.
    /// </summary>
    public async ValueTask<FeedMessage?> ReadAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!_arrived.Reader.TryRead(out var message))
        {
            try
            {
                await _arrived.Reader.WaitToReadAsync(cancellationToken).AsTask().WaitAsync(timeout, _time, cancellationToken);
            }
            catch (TimeoutException)
            {
                return null;
            }

            if (!_arrived.Reader.TryRead(out message))
            {
                return null;
            }
        }

        return ReferenceEquals(message, Refused) ? null : message;
    }

    private async Task ConfirmAsync(Task<bool> subscribe)
    {
        // Not confirmed because the session went down: the reconnect subscribes the registered topics again.
        if (!await subscribe && _session.IsConnected)
        {
            _arrived.Writer.TryWrite(Refused);
        }
    }

    private void Track(Task operation)
    {
        _operations.RemoveAll(t => t.IsCompletedSuccessfully);
        _operations.Add(operation);
    }

    public async ValueTask DisposeAsync()
    {
        // The SUBSCRIBEs still under way go first, so that the last UNSUBSCRIBE cannot overtake one of them.
        foreach (var operation in _operations)
        {
            try
            {
                await operation;
            }
            catch (OperationCanceledException)
            {
                // A SUBSCRIBE of a fetch that was cancelled.
            }
        }

        _operations.Clear();
        if (_topics.Count > 0)
        {
            await UnsubscribeAsync([.. _topics]);
        }

        while (_arrived.Reader.TryRead(out var left))
        {
            left.Dispose();
        }
    }
}

/// <summary>A message read from a <see cref="TopicFeed"/>; its payload is a pooled buffer, valid until <see cref="Dispose"/>.</summary>
public sealed class FeedMessage : IDisposable
{
    private byte[]? _buffer;

    internal FeedMessage(string topic, byte[] buffer, int length, bool freed)
    {
        Topic = topic;
        _buffer = buffer;
        Length = length;
        Freed = freed;
    }

    /// <summary>Not a message: an UNSUBSCRIBE was confirmed, so <see cref="TopicFeed.Held"/> dropped.</summary>
    public bool Freed { get; }

    public string Topic { get; }

    public int Length { get; }

    public ReadOnlySpan<byte> Payload => (_buffer ?? throw new ObjectDisposedException(nameof(FeedMessage))).AsSpan(0, Length);

    public void Dispose()
    {
        // The signals share one empty buffer and have nothing to give back.
        if (_buffer is { Length: > 0 } && Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
