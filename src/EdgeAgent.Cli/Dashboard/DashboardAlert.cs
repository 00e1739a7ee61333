namespace EdgeAgent.Cli.Dashboard;

/// <summary>
/// A drift alert (raised by a drift <c>alert</c> record, made inactive by the one that clears it) or a deployment alert
/// (a <c>Failed</c>/<c>RolledBack</c> event or reported state; inactive once the device reports the model otherwise).
/// </summary>
internal sealed record DashboardAlert
{
    public required string Id { get; init; }

    /// <summary><c>drift</c> or <c>deployment</c>.</summary>
    public required string Kind { get; init; }

    /// <summary><c>warning</c> or <c>error</c>.</summary>
    public required string Severity { get; init; }

    public required string Device { get; init; }

    public string? Model { get; init; }

    public string? Version { get; init; }

    public required DateTimeOffset At { get; init; }

    public required string Message { get; init; }

    public bool Active { get; init; }
}
