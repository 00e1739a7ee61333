using System.CommandLine;
using EdgeAgent.Core.Mqtt;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Cli;

/// <summary>
/// The broker options (<c>--broker</c>, <c>--prefix</c>, <c>--username</c>, <c>--password</c>, <c>--ca-file</c>,
/// <c>--cert</c>, <c>--key</c>) of one command, and the connection they describe.
/// </summary>
internal sealed class BrokerOptions
{
    public Option<string> Broker { get; } = CommonOptions.Broker();

    public Option<string> Prefix { get; } = CommonOptions.Prefix();

    public Option<string?> Username { get; } = CommonOptions.Username();

    public Option<string?> Password { get; } = CommonOptions.Password();

    public Option<string?> CaFile { get; } = new("--ca-file") { Description = "PEM CA bundle that must sign the broker's certificate (mqtts://; or EDGECTL_MQTT_CA_FILE; default: the system store)" };

    public Option<string?> Certificate { get; } = new("--cert") { Description = "PEM client certificate for mutual TLS (or EDGECTL_MQTT_CERT)" };

    public Option<string?> Key { get; } = new("--key") { Description = "PEM private key of --cert (or EDGECTL_MQTT_KEY)" };

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Add(Broker);
        command.Add(Prefix);
        command.Add(Username);
        command.Add(Password);
        command.Add(CaFile);
        command.Add(Certificate);
        command.Add(Key);
    }

    public async Task<FleetConnection> ConnectAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        using var tls = TlsOf(parse);
        return await FleetConnection.ConnectAsync(parse.GetValue(Broker)!, parse.GetValue(Prefix)!, username: parse.GetValue(Username), password: PasswordOf(parse), tls: tls, cancellationToken: cancellationToken);
    }

    /// <summary>A connection whose will clears <paramref name="willTopic"/> (retained) when this process dies.</summary>
    public async Task<FleetConnection> ConnectWithWillAsync(ParseResult parse, Func<Topics, string> willTopic, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(willTopic);
        var prefix = parse.GetValue(Prefix)!;
        using var tls = TlsOf(parse);
        return await FleetConnection.ConnectWithWillAsync(parse.GetValue(Broker)!, prefix, parse.GetValue(Username), PasswordOf(parse), willTopic(new Topics(prefix)), [], tls, cancellationToken);
    }

    private string? PasswordOf(ParseResult parse) => parse.GetValue(Password) ?? Environment.GetEnvironmentVariable("EDGECTL_MQTT_PASSWORD");

    /// <summary>The TLS material named by --ca-file, --cert and --key (or their environment variables); null when none is given.</summary>
    /// <exception cref="CliUsageException">a file is missing or unreadable, or does not hold what it should.</exception>
    internal BrokerTls? TlsOf(ParseResult parse)
    {
        var ca = parse.GetValue(CaFile) ?? Environment.GetEnvironmentVariable("EDGECTL_MQTT_CA_FILE");
        var cert = parse.GetValue(Certificate) ?? Environment.GetEnvironmentVariable("EDGECTL_MQTT_CERT");
        var key = parse.GetValue(Key) ?? Environment.GetEnvironmentVariable("EDGECTL_MQTT_KEY");
        if (string.IsNullOrEmpty(ca) && string.IsNullOrEmpty(cert) && string.IsNullOrEmpty(key))
        {
            return null;
        }

        if (!BrokerAddress.TryParse(parse.GetValue(Broker), out var broker, out _) || !broker!.UseTls)
        {
            throw new CliUsageException("--ca-file, --cert and --key need an mqtts:// --broker");
        }

        if (!string.IsNullOrEmpty(key) && string.IsNullOrEmpty(cert))
        {
            throw new CliUsageException("--key is given without --cert");
        }

        try
        {
            return BrokerTls.FromPem(Read("--ca-file", ca), Read("--cert", cert), Read("--key", key));
        }
        catch (FormatException ex)
        {
            throw new CliUsageException($"broker TLS files: {ex.Message}");
        }
    }

    private static string? Read(string option, string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }

        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException(ex is FileNotFoundException or DirectoryNotFoundException ? $"{option} file not found: {path}" : $"{option} {path} cannot be read: {ex.Message}");
        }
    }
}
