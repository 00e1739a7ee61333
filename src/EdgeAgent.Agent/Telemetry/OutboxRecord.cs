namespace EdgeAgent.Agent.Telemetry;

/// <summary>One record waiting in the outbox, as the publisher takes it: its device-wide <paramref name="Seq"/>, class, topic leaf and UTF-8 JSON.</summary>
/// <param name="Topic">Topic leaf under <c>{p}/devices/{id}/</c>: <c>metrics</c>, <c>events</c> or <c>drift</c>.</param>
public sealed record OutboxRecord(long Seq, OutboxClass Priority, string Topic, byte[] Payload);
