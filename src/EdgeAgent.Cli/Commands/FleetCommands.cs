using System.CommandLine;
using System.Globalization;
using EdgeAgent.Fleet.FleetStatus;
using Spectre.Console;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgectl fleet</c>: the fleet as the broker holds it.</summary>
internal static class FleetCommands
{
    public static Command Create() => new("fleet", "The fleet as the broker holds it") { StatusCommand() };

    private static Command StatusCommand()
    {
        var wait = new Option<double>("--wait") { Description = "Seconds to collect retained documents at most (ends earlier once 0.5 s pass without a new one)", DefaultValueFactory = _ => 3 };
        var broker = new BrokerOptions();
        var json = CommonOptions.Json();
        var command = new Command("status", "One row per device: online/offline/stale, models, deployment state, heartbeat age") { wait, json };
        broker.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            var seconds = parse.GetValue(wait);
            if (seconds is <= 0 or > 3600)
            {
                return CliRunner.Fail(ExitCodes.Usage, $"--wait {seconds.ToString(CultureInfo.InvariantCulture)} must be within (0, 3600] seconds");
            }

            await using var connection = await broker.ConnectAsync(parse, cancellationToken);
            var rows = await FleetView.CollectAsync(connection, TimeSpan.FromSeconds(seconds), TimeProvider.System, cancellationToken);
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(rows);
                return ExitCodes.Ok;
            }

            var table = new Table().AddColumns("device", "state", "heartbeat", "models", "agent", "type", "groups");
            foreach (var d in rows)
            {
                table.AddRow(
                    Markup.Escape(d.Device),
                    d.State switch
                    {
                        "online" => d.Healthy ? "[green]online[/]" : "[yellow]online[/]",
                        "offline" => "[red]offline[/]",
                        "stale" => "[yellow]stale[/]",
                        _ => "[grey]unknown[/]",
                    },
                    d.HeartbeatAgeSeconds is { } age ? $"{age.ToString("0.#", CultureInfo.InvariantCulture)} s ago" : "never seen",
                    Markup.Escape(d.Models.Count == 0 ? "-" : string.Join("; ", d.Models.Select(m => $"{m.Name} {m.ActiveVersion ?? "-"} {m.State}{(m.Version != m.ActiveVersion && m.Version is not null ? $" ({m.Version})" : string.Empty)}"))),
                    Markup.Escape(d.AgentVersion ?? "-"),
                    Markup.Escape(d.DeviceType ?? "-"),
                    Markup.Escape(d.Groups.Count == 0 ? "-" : string.Join(",", d.Groups)));
            }

            AnsiConsole.Write(table);
            Console.WriteLine($"{rows.Count} device(s): {rows.Count(r => r.State == "online")} online, {rows.Count(r => r.State == "offline")} offline, {rows.Count(r => r.State == "stale")} stale, {rows.Count(r => r.State == "unknown")} unknown");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
