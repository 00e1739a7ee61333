using System.CommandLine;
using System.Net;
using EdgeAgent.Cli.Dashboard;
using EdgeAgent.Cli.Demo;

namespace EdgeAgent.Cli.Commands;

internal static class DemoCommand
{
    public static Command Create()
    {
        var duration = new Option<double?>("--duration") { Description = "Seconds of traffic before the demo ends; default: until Ctrl-C" };
        var json = new Option<bool>("--json") { Description = "No live view; end with one JSON summary" };
        var keep = new Option<bool>("--keep") { Description = "Keep the demo's temporary folder (keys, bundle, devices/*/state and agent.log)" };
        var rate = new Option<int>("--rate") { Description = "Simulated sensor requests per second over the whole fleet (per device with --lifecycle, default 20 there)", DefaultValueFactory = _ => 50 };
        var lifecycle = new Option<bool>("--lifecycle") { Description = "The model lifecycle loop instead: a fleet on v1, drift, capture, Celery retraining, two-key signing, canary rollout, drift back to ok, a worse candidate refused (needs python3-sklearn, python3-celery, python3-redis, python3-paho-mqtt, redis-server)" };
        var devices = new Option<int?>("--devices") { Description = "Devices in the fleet, demo-1..demo-N (default 3, 1..20; --lifecycle: default 4, 2..50)" };
        var probation = new Option<int?>("--probation") { Description = "Probation seconds of each rollout wave (default 3, 0..3600; --lifecycle: of the canary rollout, default 8)" };
        var readyFile = new Option<string?>("--ready-file") { Description = "Write a JSON file (broker URL, rollout id, devices) once the fleet is up and the rollout exists" };
        var brokerPort = new Option<int?>("--broker-port") { Description = "Loopback port of the embedded broker (default: a free one)" };
        var dashboard = new Option<string?>("--dashboard") { Description = $"Where the demo's web dashboard listens, HOST:PORT (default {DashboardSettings.DefaultListen}, or a free port when that one is taken; port 0: a free one)" };
        var noDashboard = new Option<bool>("--no-dashboard") { Description = "Do not serve the web dashboard" };
        var noOpen = new Option<bool>("--no-open") { Description = "Print the dashboard's URL but do not open a browser" };
        var command = new Command("demo", "The whole loop on this machine: embedded broker, a fleet of agents, signed bundle, rollout in waves, inference, metrics, health (--lifecycle: drift → retrain → canary rollout)")
        {
            duration, json, keep, rate, lifecycle, devices, probation, readyFile, brokerPort, dashboard, noDashboard, noOpen,
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
                if (parse.GetValue(readyFile) is not null || parse.GetValue(brokerPort) is not null || parse.GetValue(dashboard) is not null)
                {
                    return CliRunner.Fail(ExitCodes.Usage, "--ready-file, --broker-port and --dashboard are not options of demo --lifecycle");
                }

                return await RunLifecycleAsync(parse, json, keep, rate, devices, probation, cancellationToken);
            }

            if (parse.GetValue(devices) is < 1 or > 20)
            {
                return CliRunner.Fail(ExitCodes.Usage, "--devices must be between 1 and 20");
            }

            if (parse.GetValue(probation) is < 0 or > 3600)
            {
                return CliRunner.Fail(ExitCodes.Usage, "--probation must be between 0 and 3600 seconds");
            }

            if (parse.GetValue(brokerPort) is < 1 or > 65535)
            {
                return CliRunner.Fail(ExitCodes.Usage, "--broker-port must be between 1 and 65535");
            }

            IPEndPoint? listen = null;
            if (parse.GetValue(dashboard) is { } text)
            {
                if (parse.GetValue(noDashboard))
                {
                    return CliRunner.Fail(ExitCodes.Usage, "--dashboard and --no-dashboard cannot be used together");
                }

                if (!DashboardSettings.TryParseListen(text, out listen, out var error))
                {
                    return CliRunner.Fail(ExitCodes.Usage, $"--dashboard: {error}");
                }
            }

            var runner = new DemoRunner(new DemoRunner.Settings
            {
                Duration = seconds is { } s ? TimeSpan.FromSeconds(s) : null,
                Json = parse.GetValue(json),
                Keep = parse.GetValue(keep),
                RequestsPerSecond = parse.GetValue(rate),
                Devices = parse.GetValue(devices) ?? 3,
                ProbationSeconds = parse.GetValue(probation) ?? 3,
                BrokerPort = parse.GetValue(brokerPort) ?? 0,
                ReadyFile = parse.GetValue(readyFile),
                Dashboard = parse.GetValue(noDashboard) ? DemoRunner.DashboardMode.Off : listen is null ? DemoRunner.DashboardMode.Default : DemoRunner.DashboardMode.Exact,
                DashboardListen = listen,
                OpenBrowser = !parse.GetValue(noOpen),
            });
            return await runner.RunAsync(cancellationToken);
        }));
        return command;
    }

    private static async Task<int> RunLifecycleAsync(ParseResult parse, Option<bool> json, Option<bool> keep, Option<int> rate, Option<int?> devices, Option<int?> probation, CancellationToken cancellationToken)
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
            Devices = parse.GetValue(devices) ?? 4,
            ProbationSeconds = parse.GetValue(probation) ?? 8,
            RequestsPerSecond = parse.GetResult(rate) is { Implicit: false } ? parse.GetValue(rate) : 10,
        });
        return await demo.RunAsync(cancellationToken);
    }
}
