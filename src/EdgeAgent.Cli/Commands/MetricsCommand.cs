using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgectl metrics</c>: the agent's recent metrics windows and its outbox (<c>GET /v1/metrics</c>).</summary>
internal static class MetricsCommand
{
    public static Command Create()
    {
        var socket = CommonOptions.Socket();
        var json = CommonOptions.Json();
        var limit = new Option<int>("--limit")
        {
            Description = "How many of the most recent windows to show (1 to 100)",
            DefaultValueFactory = _ => 20,
        };
        var command = new Command("metrics", "Show this device's recent metrics windows (count, errors, latency, output statistics) and the outbox: depth, bytes, drops per class") { socket, json, limit };
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            using var client = new AgentApiClient(parse.GetValue(socket)!);
            using var metrics = await client.GetJsonAsync(string.Create(CultureInfo.InvariantCulture, $"/v1/metrics?limit={parse.GetValue(limit)}"), cancellationToken);
            var root = metrics.RootElement;
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(root, Core.CoreJson.Indented));
                return ExitCodes.Ok;
            }

            var windows = root.GetProperty("windows");
            if (windows.GetArrayLength() == 0)
            {
                Console.WriteLine($"no metrics window closed yet (one per active model every {root.GetProperty("windowSeconds")} s)");
            }
            else
            {
                var table = new Table().AddColumns("seq", "model", "version", "window end", "count", "errors", "rate/s", "p50 ms", "p95 ms", "p99 ms", "outputs: mean [[min, max]]");
                foreach (var w in windows.EnumerateArray())
                {
                    var start = w.GetProperty("windowStart").GetDateTimeOffset();
                    var end = w.GetProperty("windowEnd").GetDateTimeOffset();
                    var count = w.GetProperty("count").GetInt64();
                    var seconds = (end - start).TotalSeconds;
                    var latency = w.GetProperty("latencyMs");
                    table.AddRow(
                        w.GetProperty("seq").ToString(),
                        Markup.Escape(w.GetProperty("model").GetString()!),
                        Markup.Escape(w.GetProperty("version").GetString()!),
                        end.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture),
                        count.ToString(CultureInfo.InvariantCulture),
                        w.GetProperty("errors").ToString(),
                        (seconds > 0 ? count / seconds : 0).ToString("0.#", CultureInfo.InvariantCulture),
                        latency.GetProperty("p50").ToString(),
                        latency.GetProperty("p95").ToString(),
                        latency.GetProperty("p99").ToString(),
                        Markup.Escape(Outputs(w)));
                }

                AnsiConsole.Write(table);
            }

            Console.WriteLine(OutboxText.Line(root.GetProperty("outbox")));
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary><c>probabilities 0.33 [0.01, 0.97]</c>, one output per line; <c>-</c> without statistics.</summary>
    private static string Outputs(JsonElement window)
    {
        if (!window.TryGetProperty("outputs", out var outputs) || outputs.ValueKind != JsonValueKind.Array)
        {
            return "-";
        }

        return string.Join('\n', outputs.EnumerateArray()
            .Where(o => o.GetProperty("count").GetInt64() > 0)
            .Select(o => string.Create(CultureInfo.InvariantCulture, $"{o.GetProperty("name").GetString()} {o.GetProperty("mean").GetDouble():0.####} [{o.GetProperty("min").GetDouble():0.####}, {o.GetProperty("max").GetDouble():0.####}]")));
    }
}
