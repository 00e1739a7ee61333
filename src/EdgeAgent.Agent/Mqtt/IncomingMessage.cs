namespace EdgeAgent.Agent.Mqtt;

public sealed record IncomingMessage(string Topic, byte[] Payload, bool Retained)
{
    /// <summary>The MQTT 5 response topic of a request; null when the sender asked for no answer.</summary>
    public string? ResponseTopic { get; init; }

    /// <summary>The MQTT 5 correlation data of a request, to be sent back with the answer; null when none.</summary>
    public byte[]? CorrelationData { get; init; }
}
