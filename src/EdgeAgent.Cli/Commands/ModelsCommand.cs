using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgectl models</c>: the models serving on this device, their schemas and latency (<c>GET /v1/models</c>).</summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var socket = CommonOptions.Socket();
        var json = CommonOptions.Json();
        var command = new Command("models", "List the models serving on this device: version, input and output tensors, requests and latency") { socket, json };
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            using var client = new AgentApiClient(parse.GetValue(socket)!);
            using var models = await client.GetJsonAsync("/v1/models", cancellationToken);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(models.RootElement, Core.CoreJson.Indented));
                return ExitCodes.Ok;
            }

            if (models.RootElement.GetArrayLength() == 0)
            {
                Console.WriteLine("no model is serving on this device ('edgectl status' shows deployments in progress)");
                return ExitCodes.Ok;
            }

            var table = new Table().AddColumns("model", "version", "inputs", "outputs", "requests", "errors", "p50 ms", "p95 ms", "p99 ms");
            foreach (var m in models.RootElement.EnumerateArray())
            {
                var latency = m.GetProperty("latencyMs");
                table.AddRow(
                    Markup.Escape(m.GetProperty("name").GetString()!),
                    Markup.Escape(m.GetProperty("version").GetString()!),
                    Markup.Escape(Tensors(m.GetProperty("inputs"))),
                    Markup.Escape(Tensors(m.GetProperty("outputs"))),
                    m.GetProperty("requests").ToString(),
                    m.GetProperty("errors").ToString(),
                    latency.GetProperty("p50").ToString(),
                    latency.GetProperty("p95").ToString(),
                    latency.GetProperty("p99").ToString());
            }

            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary><c>features FP32 [-1,8]</c>, one tensor per line.</summary>
    private static string Tensors(JsonElement specs) =>
        string.Join('\n', specs.EnumerateArray().Select(s =>
            $"{s.GetProperty("name").GetString()} {s.GetProperty("datatype").GetString()} [{string.Join(',', s.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()))}]"));
}
