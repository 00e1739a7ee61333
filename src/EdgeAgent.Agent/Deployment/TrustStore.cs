using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Bundles;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Deployment;

/// <summary>
/// The keys (and threshold) this device accepts manifests from: either <c>Trust:PublicKeys</c> with
/// <c>Trust:Threshold</c>, or a signed <c>root.json</c> (<c>Trust:Root</c>) that newer roots can rotate. The root in
/// force is kept as <c>trust-root.json</c> in the state directory, so a rotation survives restarts.
/// </summary>
public sealed class TrustStore : IDisposable
{
    private readonly string _statePath;
    private readonly ILogger<TrustStore> _logger;
    private readonly TimeProvider _time;
    private TrustedKeys _keys;
    private byte[]? _rootBytes;

    public TrustStore(IOptions<TrustOptions> options, IOptions<AgentOptions> agent, ILogger<TrustStore> logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(agent);
        _statePath = Path.Combine(agent.Value.StateDirectory, "trust-root.json");
        _logger = logger;
        _time = time;
        if (string.IsNullOrEmpty(options.Value.Root))
        {
            _keys = new TrustedKeys();
            foreach (var path in options.Value.PublicKeys)
            {
                _keys.AddPem(File.ReadAllText(path));
            }

            _keys.Threshold = options.Value.Threshold;
            return;
        }

        var now = time.GetUtcNow();
        var configured = File.ReadAllBytes(options.Value.Root);
        var configuredRoot = TrustRoot.VerifyInitial(configured, now);
        (Root, _rootBytes) = (configuredRoot, configured);
        if (File.Exists(_statePath))
        {
            // The root a rotation installed wins over the file it started from; a newer file must chain from it.
            var stored = File.ReadAllBytes(_statePath);
            var storedRoot = TrustRoot.VerifyInitial(stored, now);
            if (storedRoot.Version >= configuredRoot.Version)
            {
                (Root, _rootBytes) = (storedRoot, stored);
            }
            else
            {
                (Root, _rootBytes) = (TrustRoot.VerifyRotation(storedRoot, configured, now), configured);
            }
        }

        _keys = TrustRoot.ToTrustedKeys(Root);
    }

    /// <summary>The keys in force. Replaced, not changed, by a rotation.</summary>
    public TrustedKeys Keys => Volatile.Read(ref _keys);

    /// <summary>The root in force; null when the device trusts <c>Trust:PublicKeys</c>.</summary>
    public TrustRootDocument? Root { get; private set; }

    /// <summary>Raised after a root was offered (rotated, or refused), so that <c>reported</c> is republished.</summary>
    public event EventHandler? Changed;

    /// <summary>Why the latest root offered on MQTT was refused; null when it was accepted or none came.</summary>
    public string? LastRootError { get; private set; }

    /// <summary>
    /// Takes a root delivered on <c>{p}/trust/root</c>: accepted only as a rotation of the root in force (newer version,
    /// signed by a threshold of the current keys and of its own). Returns true when the keys changed.
    /// </summary>
    public bool Offer(byte[] envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (Root is null)
        {
            LastRootError = "this device trusts Trust:PublicKeys, not a root; a published root is ignored";
            return false;
        }

        if (_rootBytes is not null && envelope.AsSpan().SequenceEqual(_rootBytes))
        {
            return false;
        }

        try
        {
            var next = TrustRoot.VerifyRotation(Root, envelope, _time.GetUtcNow());
            StateFiles.WriteAtomically(_statePath, envelope);
            var old = Interlocked.Exchange(ref _keys, TrustRoot.ToTrustedKeys(next));
            old.Dispose();
            (Root, _rootBytes, LastRootError) = (next, envelope, null);
            Log.TrustRootRotated(_logger, next.Version, next.Threshold, next.Keys.Count);
            Changed?.Invoke(this, EventArgs.Empty);
            return true;
        }
        catch (BundleRejectedException ex)
        {
            LastRootError = ex.Describe();
            Log.TrustRootRefused(_logger, ex.Describe());
            Changed?.Invoke(this, EventArgs.Empty);
            return false;
        }
    }

    public void Dispose() => Keys.Dispose();
}
