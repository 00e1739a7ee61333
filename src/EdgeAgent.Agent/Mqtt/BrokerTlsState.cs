using EdgeAgent.Agent.Json;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Mqtt;
using Microsoft.Extensions.Logging;
using MQTTnet;

namespace EdgeAgent.Agent.Mqtt;

/// <summary>
/// The agent's TLS to the broker: <c>Mqtt:CaFile</c>, <c>Mqtt:ClientCertificateFile</c> and <c>Mqtt:ClientKeyFile</c> are
/// read at every connect (a renewed certificate takes effect at the next one), and what was loaded and seen at the
/// last handshake is kept for health and <c>/v1/status</c>.
/// </summary>
internal sealed class BrokerTlsState(MqttOptions options, TimeProvider time, ILogger logger)
{
    private readonly Lock _gate = new();
    private DateTimeOffset? _clientExpires;
    private DateTimeOffset? _caExpires;
    private DateTimeOffset? _serverExpires;
    private string? _serverSubject;
    private string? _serverProblem;
    private bool _handshakeSeen;
    private BrokerTls? _current;

    /// <summary>Loads the files and applies them to <paramref name="builder"/> (TLS 1.2+, the broker's name checked, custom roots).</summary>
    public MqttClientOptionsBuilder Apply(MqttClientOptionsBuilder builder)
    {
        var tls = BrokerTls.FromPem(Read(options.CaFile), Read(options.ClientCertificateFile), Read(options.ClientKeyFile));
        lock (_gate)
        {
            // Apply runs before each connect, after the previous connection is closed: its certificates are done with.
            _current?.Dispose();
            _current = tls;
            _clientExpires = tls.ClientCertificateExpires;
            _caExpires = tls.CaExpires;
        }

        return builder.WithTlsOptions(o =>
        {
            o.UseTls()
                .WithSslProtocols(BrokerTls.Protocols)
                .WithCertificateValidationHandler(e =>
                {
                    var ok = tls.ValidateServer(e.Certificate, e.Chain, e.SslPolicyErrors, out var problem);
                    lock (_gate)
                    {
                        _handshakeSeen = true;
                        _serverProblem = problem;
                        _serverSubject = e.Certificate?.Subject;
                        _serverExpires = NotAfter(e.Certificate);
                    }

                    if (!ok)
                    {
                        Log.BrokerCertificateRefused(logger, problem ?? "unknown");
                    }

                    return ok;
                });
            if (tls.ClientCertificate is { } client)
            {
                o.WithClientCertificates([client]);
            }
        });
    }

    /// <summary>The <c>tls</c> object of health and <c>/v1/status</c>.</summary>
    public BrokerTlsStatus Status()
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var earliest = new[] { _clientExpires, _caExpires }.Where(d => d.HasValue).Select(d => d!.Value).DefaultIfEmpty().Min();
            return new BrokerTlsStatus(
                _clientExpires,
                _caExpires,
                earliest == default ? null : BrokerTls.DaysLeft(earliest, now),
                _handshakeSeen ? new ServerCertificateStatus(_serverSubject, _serverExpires, _serverProblem is null, _serverProblem) : null);
        }
    }

    private static DateTimeOffset? NotAfter(System.Security.Cryptography.X509Certificates.X509Certificate? certificate)
    {
        if (certificate is null)
        {
            return null;
        }

        using var full = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return new DateTimeOffset(full.NotAfter.ToUniversalTime(), TimeSpan.Zero);
    }

    private static string? Read(string? path) => string.IsNullOrEmpty(path) ? null : File.ReadAllText(path);
}
