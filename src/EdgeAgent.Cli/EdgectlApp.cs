using System.CommandLine;
using EdgeAgent.Cli.Commands;

namespace EdgeAgent.Cli;

public static class EdgectlApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (Console.IsOutputRedirected)
        {
            // Piped or logged output: no terminal width to fit, so don't wrap table cells at 80 columns.
            Spectre.Console.AnsiConsole.Profile.Width = 200;
        }

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
