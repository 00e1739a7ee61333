using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgectl gpio</c>: the agent's GPIO pins, their mode, value and owner, and the status LED (<c>GET /v1/gpio</c>).</summary>
internal static class GpioCommand
{
    public static Command Create()
    {
        var socket = CommonOptions.Socket();
        var json = CommonOptions.Json();
        var command = new Command("gpio", "Show the GPIO pins the agent uses: mode, current value, the rule, LED or input that owns each") { socket, json };
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            using var client = new AgentApiClient(parse.GetValue(socket)!);
            using var gpio = await client.GetJsonAsync("/v1/gpio", cancellationToken);
            var root = gpio.RootElement;
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(root, Core.CoreJson.Indented));
                return ExitCodes.Ok;
            }

            if (!root.GetProperty("enabled").GetBoolean())
            {
                Console.WriteLine("GPIO is off on this device (Gpio:Enabled is false)");
                return ExitCodes.Ok;
            }

            var dryRun = root.GetProperty("dryRun").GetBoolean();
            var mode = dryRun ? "dry run (pins are logged, not driven)" : "driving pins";
            Console.WriteLine(root.GetProperty("available").GetBoolean()
                ? $"GPIO available, {mode}; status LED: {root.GetProperty("statusLed").GetString()}"
                : $"GPIO unavailable: {Text(root, "error") ?? "-"}");
            // In dry run no pin is touched: the value is the level the agent would have driven.
            var table = new Table().AddColumns("pin", "mode", dryRun ? "would be" : "value", "owner", "error");
            foreach (var p in root.GetProperty("pins").EnumerateArray())
            {
                table.AddRow(
                    p.GetProperty("pin").ToString(),
                    Markup.Escape(p.GetProperty("mode").GetString()!),
                    Markup.Escape(Text(p, "value") ?? "-"),
                    Markup.Escape(p.GetProperty("owner").GetString()!),
                    Markup.Escape(Text(p, "error") ?? string.Empty));
            }

            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>A string property; the agent leaves null ones out of its JSON (an unknown value, no error).</summary>
    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
