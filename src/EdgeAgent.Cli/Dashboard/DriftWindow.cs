namespace EdgeAgent.Cli.Dashboard;

/// <summary>One drift record of a device (a <c>window</c> report or an <c>alert</c>), as the charts use it.</summary>
internal sealed record DriftWindow
{
    /// <summary>The window's end (<c>windowEnd</c>).</summary>
    public required DateTimeOffset T { get; init; }

    /// <summary><c>window</c> or <c>alert</c>.</summary>
    public required string Kind { get; init; }

    public required string Model { get; init; }

    public string? Version { get; init; }

    public string? State { get; init; }

    public long Count { get; init; }

    public IReadOnlyList<DriftWindowEntry> Features { get; init; } = [];

    public IReadOnlyList<DriftWindowEntry> Outputs { get; init; } = [];
}
