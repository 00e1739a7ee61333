using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace EdgeAgent.Cli.Commands;

/// <summary>Commands that talk to the local agent over its API socket.</summary>
internal static class DeviceCommands
{
    public static Command Status()
    {
        var socket = CommonOptions.Socket();
        var json = CommonOptions.Json();
        var command = new Command("status", "Show the local agent's state: broker, models, deployments, outbox") { socket, json };
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            using var client = new AgentApiClient(parse.GetValue(socket)!);
            using var status = await client.GetJsonAsync("/v1/status", cancellationToken);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(status.RootElement, Core.CoreJson.Indented));
                return ExitCodes.Ok;
            }

            var root = status.RootElement;
            var broker = root.GetProperty("broker");
            AnsiConsole.MarkupLine($"device [bold]{Markup.Escape(root.GetProperty("deviceId").GetString()!)}[/]  agent {Markup.Escape(root.GetProperty("agentVersion").GetString()!)}  broker {Markup.Escape(broker.GetProperty("url").GetString()!)} {(broker.GetProperty("connected").GetBoolean() ? "[green]connected[/]" : "[red]disconnected[/]")}");
            var table = new Table().AddColumns("model", "state", "active", "target", "previous", "requests", "errors", "rate/s", "p95 ms", "reason");
            foreach (var m in root.GetProperty("models").EnumerateArray())
            {
                table.AddRow(
                    Markup.Escape(m.GetProperty("name").GetString()!),
                    Markup.Escape(StateText(m)),
                    Markup.Escape(Text(m, "activeVersion")),
                    Markup.Escape(Text(m, "version")),
                    Markup.Escape(Text(m, "previousVersion")),
                    Text(m, "requests"),
                    Text(m, "errors"),
                    Text(m, "ratePerSecond"),
                    Text(m, "p95Ms"),
                    Markup.Escape(Text(m, "reason")));
            }

            AnsiConsole.Write(table);
            var outbox = root.GetProperty("outbox");
            Console.WriteLine($"outbox: {outbox.GetProperty("depth")} waiting, {outbox.GetProperty("delivered")} delivered, {outbox.GetProperty("dropped")} dropped");
            if (root.TryGetProperty("desiredError", out var de) && de.ValueKind == JsonValueKind.String)
            {
                Console.WriteLine($"last desired state refused: {de.GetString()}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The state with what a person wants next to it: download progress, end of probation, activation time.</summary>
    private static string StateText(JsonElement m)
    {
        var state = m.GetProperty("state").GetString()!;
        if (m.TryGetProperty("progress", out var p) && p.ValueKind == JsonValueKind.Object && p.GetProperty("total").GetInt64() > 0)
        {
            return $"{state} {100.0 * p.GetProperty("bytes").GetInt64() / p.GetProperty("total").GetInt64():0}%";
        }

        if (m.TryGetProperty("probationEnds", out var ends) && ends.ValueKind == JsonValueKind.String)
        {
            return $"{state} until {ends.GetDateTimeOffset().ToLocalTime():HH:mm:ss}";
        }

        return m.TryGetProperty("activateAt", out var at) && at.ValueKind == JsonValueKind.String
            ? $"{state} until {at.GetDateTimeOffset().ToLocalTime():yyyy-MM-dd HH:mm}"
            : state;
    }

    private static string Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString()!,
            JsonValueKind.Null => "-",
            _ => v.ToString(),
        } : "-";

    public static Command Infer()
    {
        var model = new Argument<string>("model") { Description = "Model name" };
        var input = new Option<string>("--input") { Description = "Open Inference Protocol request JSON file ('-' for stdin)", Required = true };
        var socket = CommonOptions.Socket();
        var command = new Command("infer", "Run one inference request through the local agent and print the response") { model, input, socket };
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            var path = parse.GetValue(input)!;
            byte[] body;
            if (path == "-")
            {
                using var stdin = Console.OpenStandardInput();
                using var buffer = new MemoryStream();
                await stdin.CopyToAsync(buffer, cancellationToken);
                body = buffer.ToArray();
            }
            else if (!File.Exists(path))
            {
                throw new FileNotFoundException($"input file not found: {path}", path);
            }
            else
            {
                body = await File.ReadAllBytesAsync(path, cancellationToken);
            }

            using var client = new AgentApiClient(parse.GetValue(socket)!);
            var name = parse.GetValue(model)!;
            var (status, response) = await client.SendAsync(HttpMethod.Post, $"/v2/models/{Uri.EscapeDataString(name)}/infer", body, cancellationToken);
            if (status != 200)
            {
                return CliRunner.Fail(ExitCodes.Error, $"inference failed ({status}): {AgentApiClient.ErrorText(response)}");
            }

            // The v2 response as the agent sent it: one compact line, ready for jq.
            Console.WriteLine(response);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
