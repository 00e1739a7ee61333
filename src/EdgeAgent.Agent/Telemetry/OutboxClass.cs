namespace EdgeAgent.Agent.Telemetry;

/// <summary>
/// Priority of an outbox record, lowest first. When the outbox is over its byte budget the oldest records of the lowest
/// class that has any are dropped first (docs/mqtt-api.md#outbox-delivery). Stored as the number, named in JSON by
/// <see cref="OutboxClasses.Name"/>.
/// </summary>
public enum OutboxClass
{
    /// <summary>Metrics windows (<c>metrics</c>).</summary>
    Metrics = 0,

    /// <summary>Drift window reports (<c>drift</c>, kind <c>window</c>).</summary>
    Drift = 1,

    /// <summary>Deployment lifecycle and other events (<c>events</c>).</summary>
    Event = 2,

    /// <summary>Drift alerts and deployment failures.</summary>
    Alert = 3,
}

public static class OutboxClasses
{
    /// <summary>Every class, highest priority first (the order health lists them in).</summary>
    public static readonly IReadOnlyList<OutboxClass> All = [OutboxClass.Alert, OutboxClass.Event, OutboxClass.Drift, OutboxClass.Metrics];

    public const int Count = 4;

    /// <summary>The class's name in health, <c>/v1/status</c> and <c>/v1/metrics</c>: <c>alert</c>, <c>event</c>, <c>drift</c>, <c>metrics</c>.</summary>
    public static string Name(OutboxClass priority) => priority switch
    {
        OutboxClass.Alert => "alert",
        OutboxClass.Event => "event",
        OutboxClass.Drift => "drift",
        OutboxClass.Metrics => "metrics",
        _ => throw new ArgumentOutOfRangeException(nameof(priority), priority, "not an outbox class"),
    };
}
