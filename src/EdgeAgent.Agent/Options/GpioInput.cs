namespace EdgeAgent.Agent.Options;

/// <summary>One entry of <c>Gpio:Inputs</c>: a rising edge on <see cref="Pin"/> runs <see cref="Action"/>.</summary>
public sealed class GpioInput
{
    public const string ReportNow = "report-now";
    public const string Infer = "infer";

    public int Pin { get; set; } = -1;

    /// <summary><c>report-now</c> (publish a health message now) or <c>infer</c> (run <see cref="Request"/> against <see cref="Model"/>).</summary>
    public string Action { get; set; } = string.Empty;

    public string? Model { get; set; }

    /// <summary>Path to a v2 JSON request file, for <c>infer</c>.</summary>
    public string? Request { get; set; }

    /// <summary>Edges closer than this to the last accepted edge are ignored.</summary>
    public int DebounceMilliseconds { get; set; } = 50;
}
