namespace EdgeAgent.Agent.Mqtt;

public sealed record IncomingMessage(string Topic, byte[] Payload, bool Retained);
