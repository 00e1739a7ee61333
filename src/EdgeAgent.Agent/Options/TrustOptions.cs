namespace EdgeAgent.Agent.Options;

/// <summary>Section <c>Trust</c>: PEM files of the public keys whose manifest signatures this device accepts.</summary>
public sealed class TrustOptions
{
    public const string Section = "Trust";

    public IList<string> PublicKeys { get; } = [];

    /// <summary>How many distinct keys of <see cref="PublicKeys"/> must have signed a manifest (k of n).</summary>
    public int Threshold { get; set; } = 1;

    /// <summary>
    /// A signed root.json instead of <see cref="PublicKeys"/>: its keys and threshold, rotated later by newer roots
    /// published on <c>{p}/trust/root</c> (the current one is kept in the state directory).
    /// </summary>
    public string? Root { get; set; }
}
