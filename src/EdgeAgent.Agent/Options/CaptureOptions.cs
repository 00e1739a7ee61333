namespace EdgeAgent.Agent.Options;

/// <summary>
/// Section <c>Capture</c>: keep a bounded sample of served requests (inputs and outputs) for retraining, when a model
/// is in drift or a prediction has low confidence. Off by default.
/// </summary>
public sealed class CaptureOptions
{
    public const string Section = "Capture";

    public bool Enabled { get; set; }

    /// <summary>Disk budget of <c>capture.db</c>; past it the oldest samples are dropped and counted.</summary>
    public int MaxMegabytes { get; set; } = 64;

    /// <summary>Most samples kept per model per minute (the rest are skipped and counted).</summary>
    public int SamplesPerMinute { get; set; } = 60;

    /// <summary>Capture requests of a model while its drift state is <c>drift</c>.</summary>
    public bool OnDrift { get; set; } = true;

    /// <summary>Low-confidence triggers: a request is captured when the largest value of a sample's row of the output is below the threshold.</summary>
    public IReadOnlyList<CaptureLowConfidence> LowConfidence { get; set; } = [];

    /// <summary>
    /// Inputs left out of captured samples: <c>NAME</c> drops the whole input, <c>NAME[i]</c> blanks element <c>i</c> of
    /// each sample (written as null), for fields that must not leave the device.
    /// </summary>
    public IReadOnlyList<string> Redact { get; set; } = [];

    /// <summary>Largest request (bytes of tensor data) captured; bigger ones are skipped and counted.</summary>
    public int MaxSampleKilobytes { get; set; } = 256;
}
