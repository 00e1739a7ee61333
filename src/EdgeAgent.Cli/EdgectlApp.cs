using System.CommandLine;
using EdgeAgent.Cli.Commands;

namespace EdgeAgent.Cli;

public static class EdgectlApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("edgectl: operate EdgeAgent devices and fleets (docs/edgectl.md)")
        {
            KeysCommands.Create(),
            BundleCommands.Create(),
            DeployCommand.Create(),
            DeviceCommands.Status(),
            DeviceCommands.Infer(),
            DemoCommand.Create(),
        };
        return await root.Parse(args).InvokeAsync();
    }
}
