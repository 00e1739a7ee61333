using System.CommandLine;
using EdgeAgent.Cli.Demo;

namespace EdgeAgent.Cli.Commands;

internal static class DemoCommand
{
    public static Command Create()
    {
        var duration = new Option<double?>("--duration") { Description = "Seconds of traffic before the demo ends; default: until Ctrl-C" };
        var json = new Option<bool>("--json") { Description = "No live view; end with one JSON summary" };
        var keep = new Option<bool>("--keep") { Description = "Keep the demo's temporary folder (state, keys, bundle, agent.log)" };
        var rate = new Option<int>("--rate") { Description = "Simulated sensor requests per second", DefaultValueFactory = _ => 50 };
        var command = new Command("demo", "The whole loop on this machine: embedded broker, agent, signed bundle, rollout, inference, metrics, health") { duration, json, keep, rate };
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            var seconds = parse.GetValue(duration);
            if (seconds is <= 0)
            {
                return CliRunner.Fail(ExitCodes.Usage, "--duration must be positive");
            }

            if (parse.GetValue(rate) is < 1 or > 10000)
            {
                return CliRunner.Fail(ExitCodes.Usage, "--rate must be between 1 and 10000");
            }

            var runner = new DemoRunner(new DemoRunner.Settings
            {
                Duration = seconds is { } s ? TimeSpan.FromSeconds(s) : null,
                Json = parse.GetValue(json),
                Keep = parse.GetValue(keep),
                RequestsPerSecond = parse.GetValue(rate),
            });
            return await runner.RunAsync(cancellationToken);
        }));
        return command;
    }
}
