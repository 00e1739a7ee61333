using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Bundles;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Deployment;

/// <summary>The device's trusted public keys, loaded from <c>Trust:PublicKeys</c> (validated at start-up).</summary>
public sealed class TrustStore : IDisposable
{
    public TrustStore(IOptions<TrustOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Keys = new TrustedKeys();
        foreach (var path in options.Value.PublicKeys)
        {
            Keys.AddPem(File.ReadAllText(path));
        }

        Keys.Threshold = options.Value.Threshold;
    }

    public TrustedKeys Keys { get; }

    public void Dispose() => Keys.Dispose();
}
