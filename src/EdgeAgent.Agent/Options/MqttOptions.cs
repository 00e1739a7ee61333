namespace EdgeAgent.Agent.Options;

/// <summary>Section <c>Mqtt</c>.</summary>
public sealed class MqttOptions
{
    public const string Section = "Mqtt";

    public string Url { get; set; } = string.Empty;

    public string TopicPrefix { get; set; } = Core.Mqtt.Topics.DefaultPrefix;

    /// <summary>Defaults to <c>edge-agent-{DeviceId}</c>.</summary>
    public string? ClientId { get; set; }

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>
    /// A file holding the broker password (e.g. a systemd credential, <c>$CREDENTIALS_DIRECTORY/mqtt-password</c>);
    /// read at every connect, one trailing newline removed. An alternative to <see cref="Password"/>.
    /// </summary>
    public string? PasswordFile { get; set; }

    /// <summary>
    /// A PEM bundle of the CA certificate(s) that must sign the broker's certificate (mqtts:// only); the system trust
    /// store when unset. The broker's certificate must also name the host in <see cref="Url"/>.
    /// </summary>
    public string? CaFile { get; set; }

    /// <summary>A PEM client certificate for mutual TLS (mqtts:// only); with mosquitto's <c>use_identity_as_username</c> its CN is the user name.</summary>
    public string? ClientCertificateFile { get; set; }

    /// <summary>The PEM private key of <see cref="ClientCertificateFile"/> (unless that file holds the key too).</summary>
    public string? ClientKeyFile { get; set; }

    public int KeepAliveSeconds { get; set; } = 30;

    /// <summary>Longest wait between reconnect attempts (exponential backoff with jitter up to this).</summary>
    public int MaxReconnectDelaySeconds { get; set; } = 30;
}
