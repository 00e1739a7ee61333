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
        var rate = new Option<int>("--rate") { Description = "Simulated sensor requests per second (per device with --lifecycle, default 20 there)", DefaultValueFactory = _ => 50 };
        var lifecycle = new Option<bool>("--lifecycle") { Description = "The model lifecycle loop instead: a fleet on v1, drift, capture, Celery retraining, two-key signing, canary rollout, drift back to ok, a worse candidate refused (needs python3-sklearn, python3-celery, python3-redis, python3-paho-mqtt, redis-server)" };
        var devices = new Option<int>("--devices") { Description = "Devices in the --lifecycle fleet", DefaultValueFactory = _ => 4 };
        var probation = new Option<int>("--probation") { Description = "Probation seconds of the --lifecycle canary rollout", DefaultValueFactory = _ => 8 };
        var command = new Command("demo", "The whole loop on this machine: embedded broker, agent, signed bundle, rollout, inference, metrics, health (--lifecycle: drift → retrain → canary rollout)")
        {
            duration, json, keep, rate, lifecycle, devices, probation,
        };
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

            if (parse.GetValue(lifecycle))
            {
                return await RunLifecycleAsync(parse, json, keep, rate, devices, probation, cancellationToken);
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

    private static async Task<int> RunLifecycleAsync(ParseResult parse, Option<bool> json, Option<bool> keep, Option<int> rate, Option<int> devices, Option<int> probation, CancellationToken cancellationToken)
    {
        if (parse.GetValue(devices) is < 2 or > 50)
        {
            return CliRunner.Fail(ExitCodes.Usage, "--devices must be between 2 and 50 (a canary wave and the rest)");
        }

        if (parse.GetValue(probation) is < 1 or > 3600)
        {
            return CliRunner.Fail(ExitCodes.Usage, "--probation must be between 1 and 3600 seconds");
        }

        if (await LifecycleDemo.MissingPrerequisiteAsync(cancellationToken) is { } missing)
        {
            return CliRunner.Fail(ExitCodes.Error, missing);
        }

        var demo = new LifecycleDemo(new LifecycleDemo.Settings
        {
            Json = parse.GetValue(json),
            Keep = parse.GetValue(keep),
            Devices = parse.GetValue(devices),
            ProbationSeconds = parse.GetValue(probation),
            RequestsPerSecond = parse.GetResult(rate) is { Implicit: false } ? parse.GetValue(rate) : 10,
        });
        return await demo.RunAsync(cancellationToken);
    }
}
