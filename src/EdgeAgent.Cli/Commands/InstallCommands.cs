using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace EdgeAgent.Cli.Commands;

/// <summary>
/// <c>edgectl install FILE.edgebundle</c>: sideloads a bundle into the local agent (air-gapped devices) and follows it
/// to Active; <c>edgectl release MODEL</c> hands a pinned model back to the fleet's desired state.
/// </summary>
internal static class InstallCommands
{
    public static Command Install()
    {
        var file = new Argument<string>("bundle") { Description = "The .edgebundle file" };
        var probation = new Option<int?>("--probation") { Description = "Seconds the new version is watched before it counts as Active (default: the agent's Agent:ProbationSeconds)" };
        var noWait = new Option<bool>("--no-wait") { Description = "Return once the agent accepted the bundle, without following it to Active" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for Active (after the upload)", DefaultValueFactory = _ => 600 };
        var socket = CommonOptions.Socket();
        var json = CommonOptions.Json();
        var command = new Command("install", "Install a signed bundle on this device without a broker; it stays pinned until 'edgectl release'")
        {
            file, probation, noWait, timeout, socket, json,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"bundle not found: {path}", path);
            }

            if (parse.GetValue(probation) is < 0 or > 604800)
            {
                return CliRunner.Fail(ExitCodes.Usage, "--probation must be between 0 and 604800 seconds");
            }

            using var client = new AgentApiClient(parse.GetValue(socket)!, TimeSpan.FromMinutes(30));
            var query = parse.GetValue(probation) is { } seconds ? $"?probationSeconds={seconds.ToString(CultureInfo.InvariantCulture)}" : string.Empty;
            var (status, body) = await client.PostFileAsync("/v1/bundles" + query, path, "application/x-tar", cancellationToken);
            if (status != 202)
            {
                return CliRunner.Fail(status is 400 or 413 ? ExitCodes.Rejected : ExitCodes.Error, $"install refused ({status}): {AgentApiClient.ErrorText(body)}");
            }

            using var accepted = JsonDocument.Parse(body);
            var model = accepted.RootElement.GetProperty("model").GetString()!;
            var version = accepted.RootElement.GetProperty("version").GetString()!;
            if (!parse.GetValue(json))
            {
                await Console.Error.WriteLineAsync($"{model} {version}: verified and installed, pinned on this device");
            }

            if (parse.GetValue(noWait))
            {
                return Report(parse.GetValue(json), model, version, "Pending", null, ExitCodes.Ok);
            }

            var (state, reason) = await FollowAsync(client, model, version, TimeSpan.FromSeconds(parse.GetValue(timeout)), parse.GetValue(json), cancellationToken);
            var code = state == "Active" ? ExitCodes.Ok : state is "Failed" or "RolledBack" ? ExitCodes.Rejected : ExitCodes.Error;
            return Report(parse.GetValue(json), model, version, state, reason, code);
        }));
        return command;
    }

    public static Command Release()
    {
        var model = new Argument<string>("model") { Description = "Model name pinned by 'edgectl install'" };
        var socket = CommonOptions.Socket();
        var command = new Command("release", "Hand a model installed with 'edgectl install' back to the fleet's desired state") { model, socket };
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            using var client = new AgentApiClient(parse.GetValue(socket)!);
            var name = parse.GetValue(model)!;
            var (status, body) = await client.SendAsync(HttpMethod.Delete, $"/v1/pins/{Uri.EscapeDataString(name)}", null, cancellationToken);
            if (status != 200)
            {
                return CliRunner.Fail(ExitCodes.Error, $"release failed ({status}): {AgentApiClient.ErrorText(body)}");
            }

            Console.WriteLine($"{name}: released; the fleet's desired state applies again");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Polls the agent until the version is Active or has failed; shows each state as it changes.</summary>
    private static async Task<(string State, string? Reason)> FollowAsync(AgentApiClient client, string model, string version, TimeSpan timeout, bool quiet, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        string? last = null;
        while (true)
        {
            using (var status = await client.GetJsonAsync("/v1/status", cancellationToken))
            {
                foreach (var m in status.RootElement.GetProperty("models").EnumerateArray())
                {
                    if (m.GetProperty("name").GetString() != model || m.GetProperty("version").GetString() != version)
                    {
                        continue;
                    }

                    var state = m.GetProperty("state").GetString()!;
                    var reason = m.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
                    if (state != last && !quiet)
                    {
                        await Console.Error.WriteLineAsync($"{model} {version}: {state}{(reason is null ? string.Empty : " (" + reason + ")")}");
                        last = state;
                    }

                    var active = m.TryGetProperty("activeVersion", out var a) && a.GetString() == version;
                    if ((state == "Active" && active) || state is "Failed" or "RolledBack")
                    {
                        return (state, reason);
                    }
                }
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                return (last ?? "Pending", $"not Active within {timeout.TotalSeconds:0} s (it goes on in the agent; see 'edgectl status')");
            }

            await Task.Delay(500, cancellationToken);
        }
    }

    private static int Report(bool json, string model, string version, string state, string? reason, int code)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { model, version, state, reason, pinned = true }, Core.CoreJson.Options));
        }
        else if (code == ExitCodes.Ok)
        {
            AnsiConsole.MarkupLine($"[green]{Markup.Escape(model)} {Markup.Escape(version)} {Markup.Escape(state)}[/]");
        }
        else
        {
            // The pin stays: the device keeps serving what it had, and the fleet's desired state does not apply to this model.
            return CliRunner.Fail(code, $"{model} {version} {state}: {reason}; the model stays pinned to {version} on this device until 'edgectl release {model}'");
        }

        return code;
    }
}
