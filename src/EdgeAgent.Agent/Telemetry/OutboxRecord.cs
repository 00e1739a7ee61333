namespace EdgeAgent.Agent.Telemetry;

/// <summary>One message waiting in the outbox. <see cref="Id"/> orders the queue; <see cref="Seq"/> is the sequence its kind publishes.</summary>
public sealed class OutboxRecord
{
    public long Id { get; set; }

    /// <summary>Topic leaf under the device: <c>metrics</c> or <c>events</c>.</summary>
    public string Kind { get; set; } = string.Empty;

    public long Seq { get; set; }

    public string Payload { get; set; } = string.Empty;

    public DateTime Created { get; set; }
}
