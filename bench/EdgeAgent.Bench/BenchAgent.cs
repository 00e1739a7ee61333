using EdgeAgent.Agent;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Bench;

/// <summary>A real agent for the benchmarks: temporary state folder and socket under <paramref name="work"/>, a fresh trust key, logging off.</summary>
internal static class BenchAgent
{
    public static WebApplication Build(string work, string deviceId, string brokerUrl, out string socket)
    {
        var keys = EdgeAgent.Fleet.Keys.SigningKeys.Generate(work, "bench");
        socket = Path.Combine(work, "api.sock");
        return AgentHost.Build(
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Agent:DeviceId"] = deviceId,
                ["Agent:StateDirectory"] = Path.Combine(work, "state"),
                ["Agent:ApiSocket"] = socket,
                ["Mqtt:Url"] = brokerUrl,
                ["Trust:PublicKeys:0"] = keys.PublicKeyPath,
            }).Build(),
            logging => logging.ClearProviders());
    }
}
