namespace EdgeAgent.Agent.Options;

/// <summary>Section <c>Trust</c>: PEM files of the public keys whose manifest signatures this device accepts.</summary>
public sealed class TrustOptions
{
    public const string Section = "Trust";

    public IList<string> PublicKeys { get; } = [];
}
