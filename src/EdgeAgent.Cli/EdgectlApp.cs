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
            DriftCommands.Create(),
            DeployCommand.Create(),
            RolloutCommands.Create(),
            FleetCommands.Create(),
            DeviceCommands.Status(),
            DeviceCommands.Infer(),
            ModelsCommand.Create(),
            MetricsCommand.Create(),
            CheckCommand.Create(),
            LogsCommand.Create(),
            GpioCommand.Create(),
            CaptureCommands.Create(),
            SupportBundleCommand.Create(),
            InstallCommands.Install(),
            InstallCommands.Release(),
            DemoCommand.Create(),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync($"edgectl: {error.Message}");
            }

            await Console.Error.WriteLineAsync("(run 'edgectl --help' or 'edgectl COMMAND --help' for usage)");
            return ExitCodes.Usage;
        }

        return await parsed.InvokeAsync();
    }
}
