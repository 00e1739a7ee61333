using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EdgeAgent.Core.Mqtt;

/// <summary>
/// TLS material for a broker connection, from PEM text: a CA bundle that validates the broker (instead of the system
/// store), and an optional client certificate with its key (mutual TLS). Used by the agent and by edgectl alike.
/// </summary>
public sealed class BrokerTls : IDisposable
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    private BrokerTls(X509Certificate2Collection? roots, X509Certificate2? clientCertificate)
    {
        Roots = roots;
        ClientCertificate = clientCertificate;
    }

    /// <summary>TLS 1.2 and 1.3 only.</summary>
    public static SslProtocols Protocols => SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>The CA certificates the broker's chain must end in; null to use the system trust store.</summary>
    public X509Certificate2Collection? Roots { get; }

    /// <summary>The certificate (with its private key) this client presents; null without mutual TLS.</summary>
    public X509Certificate2? ClientCertificate { get; }

    /// <summary>The earliest NotAfter among the CA certificates; null when the system store is used.</summary>
    public DateTimeOffset? CaExpires => Roots is { Count: > 0 } roots ? roots.Min(c => new DateTimeOffset(c.NotAfter.ToUniversalTime(), TimeSpan.Zero)) : null;

    public DateTimeOffset? ClientCertificateExpires => ClientCertificate is { } c ? new DateTimeOffset(c.NotAfter.ToUniversalTime(), TimeSpan.Zero) : null;

    /// <summary>
    /// Parses the PEM texts. Throws <see cref="FormatException"/> with a short reason (naming which part) when the CA
    /// bundle holds no certificate, a certificate or key does not parse, or the key does not belong to the certificate.
    /// </summary>
    public static BrokerTls FromPem(string? caPem, string? certificatePem, string? keyPem)
    {
        if (keyPem is not null && certificatePem is null)
        {
            throw new FormatException("a client key needs its client certificate");
        }

        if (certificatePem is not null && keyPem is null && !certificatePem.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            throw new FormatException("a client certificate needs its private key");
        }

        X509Certificate2Collection? roots = null;
        if (caPem is not null)
        {
            roots = ParseCaBundle(caPem);
        }

        X509Certificate2? client = null;
        if (certificatePem is not null)
        {
            try
            {
                using var ephemeral = X509Certificate2.CreateFromPem(certificatePem, keyPem ?? certificatePem);
                // An ephemeral PEM key is not usable by SslStream on every platform: carry it through PKCS#12.
                client = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
            }
            catch (CryptographicException ex)
            {
                throw new FormatException($"the client certificate and key do not load as a PEM pair ({ex.Message})", ex);
            }
            catch (ArgumentException ex)
            {
                throw new FormatException($"the client certificate and key do not load as a PEM pair ({ex.Message})", ex);
            }
        }

        return new BrokerTls(roots, client);
    }

    /// <summary>Every certificate of a PEM bundle; a bundle without any <c>CERTIFICATE</c> block is not a CA file.</summary>
    public static X509Certificate2Collection ParseCaBundle(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        if (!pem.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            throw new FormatException("is not a PEM CA bundle (no -----BEGIN CERTIFICATE----- block)");
        }

        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPem(pem);
        }
        catch (CryptographicException ex)
        {
            throw new FormatException($"is not a PEM CA bundle ({ex.Message})", ex);
        }

        return roots.Count == 0 ? throw new FormatException("is not a PEM CA bundle (no certificate read)") : roots;
    }

    /// <summary>
    /// Decides whether the broker's certificate is trusted: the host name must match (TLS's own check), and the chain must
    /// end in one of <see cref="Roots"/> (custom root trust, no revocation lookup: devices are often offline) or, without
    /// a CA file, in the system store. <paramref name="problem"/> says why not.
    /// </summary>
    public bool ValidateServer(X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors, out string? problem)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            problem = "the broker presented no certificate";
            return false;
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            problem = $"the broker's certificate ({certificate.Subject}) does not name the host connected to";
            return false;
        }

        if (Roots is null)
        {
            problem = errors == SslPolicyErrors.None ? null : $"the broker's certificate chain is not trusted by the system store ({errors})";
            return problem is null;
        }

        using var server = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        var intermediates = presented?.ChainElements.Select(e => e.Certificate).Skip(1) ?? [];
        problem = ChainProblem(server, Roots, intermediates, ServerAuthentication);
        return problem is null;
    }

    /// <summary>Builds the chain of <paramref name="certificate"/> up to one of <paramref name="roots"/>; null when it is valid, else the reason.</summary>
    public static string? ChainProblem(X509Certificate2 certificate, X509Certificate2Collection roots, IEnumerable<X509Certificate2>? intermediates = null, string? usage = null, DateTime? at = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(roots);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (at is { } time)
        {
            chain.ChainPolicy.VerificationTime = time;
        }

        if (usage is not null)
        {
            chain.ChainPolicy.ApplicationPolicy.Add(new Oid(usage));
        }

        foreach (var extra in intermediates ?? [])
        {
            chain.ChainPolicy.ExtraStore.Add(extra);
        }

        if (chain.Build(certificate))
        {
            return null;
        }

        var reasons = chain.ChainStatus.Where(s => s.Status != X509ChainStatusFlags.NoError).Select(s => s.StatusInformation.Trim()).Distinct();
        return $"the certificate chain of {certificate.Subject} is not valid: {string.Join("; ", reasons)}";
    }

    /// <summary>Whole days until <paramref name="expires"/> (negative once expired).</summary>
    public static int DaysLeft(DateTimeOffset expires, DateTimeOffset now) => (int)Math.Floor((expires - now).TotalDays);

    public void Dispose()
    {
        ClientCertificate?.Dispose();
        if (Roots is not null)
        {
            foreach (var root in Roots)
            {
                root.Dispose();
            }
        }
    }
}
