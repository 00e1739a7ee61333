using System.Buffers;
using System.CommandLine;
using System.Text;
using System.Text.Json;
using EdgeAgent.Agent.Serving;
using EdgeAgent.Agent.Telemetry;
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
            Console.WriteLine(OutboxText.Line(outbox));
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

    /// <summary>Builds a v2 JSON request from .npy arrays; a bare FILE.npy names the model's only input.</summary>
    private static async Task<byte[]> NpyRequestAsync(AgentApiClient client, string model, string[] inputs, CancellationToken cancellationToken)
    {
        string[]? modelInputs = null;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("inputs");
            foreach (var spec in inputs)
            {
                var at = spec.IndexOf('=', StringComparison.Ordinal);
                var file = at < 0 ? spec : spec[(at + 1)..];
                if (!file.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
                {
                    throw new ArgumentException($"--input '{spec}': with .npy arrays every --input is FILE.npy or NAME=FILE.npy");
                }

                if (!File.Exists(file))
                {
                    throw new FileNotFoundException($"input file not found: {file}", file);
                }

                string inputName;
                if (at > 0)
                {
                    inputName = spec[..at];
                }
                else
                {
                    if (modelInputs is null)
                    {
                        using var meta = await client.GetJsonAsync($"/v2/models/{Uri.EscapeDataString(model)}", cancellationToken);
                        modelInputs = [.. meta.RootElement.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()!)];
                    }

                    if (modelInputs.Length != 1 || inputs.Length != 1)
                    {
                        throw new ArgumentException($"model '{model}' has inputs {string.Join(", ", modelInputs)}: name each array, e.g. --input {modelInputs.FirstOrDefault() ?? "NAME"}=FILE.npy");
                    }

                    inputName = modelInputs[0];
                }

                NpyFile.WriteInput(writer, inputName, file);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static Command Infer()
    {
        var model = new Argument<string>("model") { Description = "Model name" };
        var input = new Option<string[]>("--input")
        {
            Description = "Open Inference Protocol request JSON file ('-' for stdin), or a NumPy array FILE.npy (NAME=FILE.npy for a model with several inputs; repeat for each)",
            Required = true,
        };
        var socket = CommonOptions.Socket();
        var onnx = new Option<string?>("--onnx")
        {
            Description = "Run the JSON request here on this ONNX model file with the agent's serving code, not through the local agent (no agent or socket needed; MODEL names it in the response)",
        };
        var command = new Command("infer", "Run one inference request through the local agent and print the response") { model, input, socket, onnx };
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            var inputs = parse.GetValue(input)!;
            var path = inputs[0];
            var name = parse.GetValue(model)!;
            var modelFile = parse.GetValue(onnx);
            if (modelFile is not null && (inputs.Length > 1 || path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)))
            {
                return CliRunner.Fail(ExitCodes.Usage, "--onnx takes one JSON request file (--input FILE.json or -)");
            }

            using var client = new AgentApiClient(parse.GetValue(socket)!);
            byte[] body;
            if (inputs.Any(i => i.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)))
            {
                body = await NpyRequestAsync(client, name, inputs, cancellationToken);
            }
            else if (inputs.Length > 1)
            {
                return CliRunner.Fail(ExitCodes.Usage, "--input takes one JSON request file; several --input are for .npy arrays (NAME=FILE.npy)");
            }
            else if (path == "-")
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

            if (modelFile is not null)
            {
                try
                {
                    Console.WriteLine(InferOffline(name, modelFile, body));
                    return ExitCodes.Ok;
                }
                catch (InferenceException ex)
                {
                    return CliRunner.Fail(ExitCodes.Error, $"inference failed: {ex.Message}");
                }
            }

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

    /// <summary>One request on <paramref name="modelFile"/> in this process, through the agent's <see cref="InferenceRunner"/>: the response the agent would send.</summary>
    internal static string InferOffline(string name, string modelFile, byte[] body)
    {
        if (!File.Exists(modelFile))
        {
            throw new FileNotFoundException($"model file not found: {modelFile}", modelFile);
        }

        using var catalog = new ModelCatalog();
        catalog.Activate(OnnxModel.Load(name, "0.0.0", modelFile));
        var runner = new InferenceRunner(catalog, new InferenceMeter(TimeProvider.System));
        using var request = JsonDocument.Parse(body);
        var response = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(response))
        {
            runner.Infer(name, request.RootElement, writer);
        }

        return Encoding.UTF8.GetString(response.WrittenSpan);
    }
}
