using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using EdgeAgent.Agent.Json;
using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core;
using EdgeAgent.Core.Mqtt;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Commands;

/// <summary>
/// Remote commands on <c>{p}/devices/{id}/cmd/{verb}</c> (standing subscription to <c>cmd/+</c>), MQTT 5
/// request/response: each request runs the <see cref="IRemoteCommand"/> registered for its verb and, when the request
/// has a response topic, the answer goes there with the request's correlation data. Requests run one at a time in
/// arrival order; at most <see cref="QueueCapacity"/> wait, more are answered <c>busy</c>. A retained command is
/// ignored (it would run again at every connect).
/// </summary>
public sealed class RemoteCommandService : BackgroundService
{
    public const int QueueCapacity = 16;

    private readonly MqttSession _mqtt;
    private readonly Dictionary<string, IRemoteCommand> _commands = new(StringComparer.Ordinal);
    private readonly Channel<IncomingMessage> _queue = Channel.CreateBounded<IncomingMessage>(new BoundedChannelOptions(QueueCapacity) { SingleReader = true });
    private readonly string _filter;
    private readonly ILogger<RemoteCommandService> _logger;

    public RemoteCommandService(MqttSession mqtt, IEnumerable<IRemoteCommand> commands, IOptions<AgentOptions> agent, ILogger<RemoteCommandService> logger)
    {
        ArgumentNullException.ThrowIfNull(commands);
        ArgumentNullException.ThrowIfNull(agent);
        _mqtt = mqtt;
        _logger = logger;
        _filter = mqtt.Topics.Commands(agent.Value.DeviceId);
        foreach (var command in commands)
        {
            if (!Topics.IsVerb(command.Verb))
            {
                throw new InvalidOperationException($"remote command {command.GetType().Name} has verb '{command.Verb}', which is not one topic level of letters, digits, '-' and '_'");
            }

            if (!_commands.TryAdd(command.Verb, command))
            {
                throw new InvalidOperationException($"remote command verb '{command.Verb}' is registered twice ({_commands[command.Verb].GetType().Name} and {command.GetType().Name})");
            }
        }
    }

    /// <summary>The verbs this agent answers, sorted.</summary>
    public IReadOnlyList<string> Verbs => [.. _commands.Keys.Order(StringComparer.Ordinal)];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _mqtt.AddStandingSubscription(_filter, OnRequest);
        try
        {
            await foreach (var request in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await HandleAsync(request, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>On MQTTnet's receive loop: only queues.</summary>
    private void OnRequest(IncomingMessage message)
    {
        var verb = VerbOf(message.Topic);
        if (message.Retained)
        {
            Log.RetainedCommandIgnored(_logger, verb, message.Topic);
            return;
        }

        if (!_queue.Writer.TryWrite(message))
        {
            Log.CommandRefused(_logger, verb, $"busy: {QueueCapacity} commands are waiting");
            _ = Task.Run(() => AnswerAsync(message, verb, RemoteCommandResult.Fail($"busy: {QueueCapacity} commands are waiting; try again later"), CancellationToken.None));
        }
    }

    private static string VerbOf(string topic) => topic[(topic.LastIndexOf('/') + 1)..];

    private async Task HandleAsync(IncomingMessage message, CancellationToken stoppingToken)
    {
        var verb = VerbOf(message.Topic);
        var started = Stopwatch.GetTimestamp();
        RemoteCommandResult result;
        if (!_commands.TryGetValue(verb, out var command))
        {
            result = RemoteCommandResult.Fail($"unknown verb '{verb}' (this agent knows: {string.Join(", ", Verbs)})");
        }
        else
        {
            try
            {
                result = await command.ExecuteAsync(new RemoteCommandRequest(verb, message.Payload), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                result = RemoteCommandResult.Fail("the agent is stopping");
            }
            catch (Exception ex)
            {
                Log.CommandError(_logger, verb, ex);
                result = RemoteCommandResult.Fail(ex is ArgumentException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}");
            }
        }

        if (result.Succeeded)
        {
            var milliseconds = Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1);
            Log.CommandRan(_logger, verb, milliseconds, message.ResponseTopic is not null);
        }
        else
        {
            Log.CommandRefused(_logger, verb, result.Error!);
        }

        await AnswerAsync(message, verb, result, stoppingToken);
    }

    private async Task AnswerAsync(IncomingMessage request, string verb, RemoteCommandResult result, CancellationToken cancellationToken)
    {
        var responseTopic = request.ResponseTopic;
        if (string.IsNullOrEmpty(responseTopic))
        {
            return;
        }

        if (responseTopic.Contains('+', StringComparison.Ordinal) || responseTopic.Contains('#', StringComparison.Ordinal) || responseTopic.StartsWith('$'))
        {
            Log.ResponseTopicRefused(_logger, verb, responseTopic);
            return;
        }

        try
        {
            if (!await _mqtt.PublishResponseAsync(responseTopic, request.CorrelationData, Answer(verb, result), cancellationToken))
            {
                Log.AnswerNotDelivered(_logger, verb, responseTopic);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.CommandError(_logger, verb, ex);
        }
    }

    /// <summary>The answer document: <c>ok</c>, <c>verb</c>, then the result's fields or <c>error</c>.</summary>
    public static byte[] Answer(string verb, RemoteCommandResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = AgentJson.Options.Encoder }))
        {
            writer.WriteStartObject();
            writer.WriteBoolean("ok", result.Succeeded);
            writer.WriteString("verb", verb);
            if (!result.Succeeded)
            {
                writer.WriteString("error", result.Error);
            }
            else if (result.Fields is not null)
            {
                using var fields = JsonSerializer.SerializeToDocument(result.Fields, AgentJson.Options.GetTypeInfo(result.Fields.GetType()));
                if (fields.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new InvalidOperationException($"the fields of a {verb} answer must be an object");
                }

                foreach (var property in fields.RootElement.EnumerateObject())
                {
                    if (property.NameEquals("ok") || property.NameEquals("verb") || property.NameEquals("error"))
                    {
                        continue;
                    }

                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
