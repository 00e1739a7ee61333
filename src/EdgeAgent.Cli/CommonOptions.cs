using System.CommandLine;

namespace EdgeAgent.Cli;

internal static class CommonOptions
{
    public static Option<bool> Json() => new("--json") { Description = "Print machine-readable JSON" };

    public static Option<string> Broker() => new("--broker")
    {
        Description = "Broker URL, mqtt://HOST:PORT or mqtts://HOST:PORT",
        Required = true,
    };

    public static Option<string> Prefix() => new("--prefix")
    {
        Description = "MQTT topic prefix",
        DefaultValueFactory = _ => Core.Mqtt.Topics.DefaultPrefix,
    };

    public static Option<string?> Username() => new("--username") { Description = "Broker user name" };

    public static Option<string?> Password() => new("--password") { Description = "Broker password (or EDGECTL_MQTT_PASSWORD)" };

    public static Option<string> Socket() => new("--socket")
    {
        Description = "The agent's API socket",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("EDGEAGENT_SOCKET") ?? AgentApiClient.DefaultSocket,
    };
}
