using System.CommandLine;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Cli;

/// <summary>The broker options (<c>--broker</c>, <c>--prefix</c>, <c>--username</c>, <c>--password</c>) of one command, and the connection they describe.</summary>
internal sealed class BrokerOptions
{
    public Option<string> Broker { get; } = CommonOptions.Broker();

    public Option<string> Prefix { get; } = CommonOptions.Prefix();

    public Option<string?> Username { get; } = CommonOptions.Username();

    public Option<string?> Password { get; } = CommonOptions.Password();

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Add(Broker);
        command.Add(Prefix);
        command.Add(Username);
        command.Add(Password);
    }

    public Task<FleetConnection> ConnectAsync(ParseResult parse, CancellationToken cancellationToken) =>
        FleetConnection.ConnectAsync(parse.GetValue(Broker)!, parse.GetValue(Prefix)!, username: parse.GetValue(Username), password: PasswordOf(parse), cancellationToken: cancellationToken);

    /// <summary>A connection whose will clears <paramref name="willTopic"/> (retained) when this process dies.</summary>
    public Task<FleetConnection> ConnectWithWillAsync(ParseResult parse, Func<Core.Mqtt.Topics, string> willTopic, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(willTopic);
        var prefix = parse.GetValue(Prefix)!;
        return FleetConnection.ConnectWithWillAsync(parse.GetValue(Broker)!, prefix, parse.GetValue(Username), PasswordOf(parse), willTopic(new Core.Mqtt.Topics(prefix)), [], cancellationToken);
    }

    private string? PasswordOf(ParseResult parse) => parse.GetValue(Password) ?? Environment.GetEnvironmentVariable("EDGECTL_MQTT_PASSWORD");
}
