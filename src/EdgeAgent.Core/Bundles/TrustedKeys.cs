using System.Security.Cryptography;

namespace EdgeAgent.Core.Bundles;

/// <summary>The public keys a device accepts manifest signatures from, by key id.</summary>
public sealed class TrustedKeys : IDisposable
{
    private readonly Dictionary<string, ECDsa> _keys = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> KeyIds => _keys.Keys;

    public int Count => _keys.Count;

    /// <summary>How many distinct trusted keys must have signed a manifest (k of n). Default 1.</summary>
    public int Threshold
    {
        get;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = 1;

    /// <summary>Adds a PEM public key (SubjectPublicKeyInfo, <c>-----BEGIN PUBLIC KEY-----</c>); returns its key id.</summary>
    public string AddPem(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        if (pem.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            // A signing key has no business on a device; refuse it rather than quietly use its public half.
            throw new CryptographicException("a private key, not a public key (give the .pub.pem file; keep the private key off devices)");
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            ManifestSigner.EnsureP256(key);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException or PlatformNotSupportedException)
        {
            key.Dispose();
            throw new CryptographicException($"not an EC P-256 public key in PEM form: {ex.Message}", ex);
        }

        var id = Bundles.KeyIds.Of(key);
        if (!_keys.TryAdd(id, key))
        {
            key.Dispose();
        }

        return id;
    }

    public bool TryGet(string keyId, out ECDsa? key) => _keys.TryGetValue(keyId, out key);

    public void Dispose()
    {
        foreach (var key in _keys.Values)
        {
            key.Dispose();
        }

        _keys.Clear();
    }
}
