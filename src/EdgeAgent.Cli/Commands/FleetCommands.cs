using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeAgent.Cli.Dashboard;
using EdgeAgent.Core.Mqtt;
using EdgeAgent.Fleet.FleetStatus;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgectl fleet</c>: the fleet as the broker holds it.</summary>
internal static class FleetCommands
{
    public static Command Create() => new("fleet", "The fleet as the broker holds it") { StatusCommand(), CmdCommand(), DashboardCommand() };

    /// <summary>
    /// <c>edgectl fleet cmd DEVICE VERB</c>: a remote command over MQTT 5 request/response (docs/mqtt-api.md#cmd);
    /// prints the answer, writes a support bundle it carries to a file.
    /// </summary>
    private static Command CmdCommand()
    {
        var device = new Argument<string>("device") { Description = "Device id" };
        var verb = new Argument<string>("verb") { Description = "Command: report-now, support-bundle (or any verb the agent registers)" };
        var payload = new Option<string?>("--payload") { Description = "Arguments as a JSON object (default: none)" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the answer", DefaultValueFactory = _ => 30 };
        var output = new Option<string?>("--out") { Description = "Where to write a bundle the answer carries (default: its file name in the current folder)" };
        var broker = new BrokerOptions();
        var json = CommonOptions.Json();
        var command = new Command("cmd", "Send a remote command to a device and wait for its answer (MQTT 5 request/response)") { device, verb, payload, timeout, output, json };
        broker.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            var id = parse.GetValue(device)!;
            var name = parse.GetValue(verb)!;
            var seconds = parse.GetValue(timeout);
            if (!Core.Mqtt.DeviceIds.IsValid(id))
            {
                return CliRunner.Fail(ExitCodes.Usage, $"device '{id}' is not a device id (letters, digits, '.', '_', '-')");
            }

            if (!Core.Mqtt.Topics.IsVerb(name))
            {
                return CliRunner.Fail(ExitCodes.Usage, $"verb '{name}' is not a command verb (letters, digits, '-', '_')");
            }

            if (seconds is <= 0 or > 3600)
            {
                return CliRunner.Fail(ExitCodes.Usage, $"--timeout {seconds.ToString(CultureInfo.InvariantCulture)} must be within (0, 3600] seconds");
            }

            var arguments = parse.GetValue(payload) ?? "{}";
            try
            {
                using var parsed = JsonDocument.Parse(arguments);
                if (parsed.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return CliRunner.Fail(ExitCodes.Usage, "--payload must be a JSON object, e.g. '{\"model\":\"vibration\"}'");
                }
            }
            catch (JsonException ex)
            {
                return CliRunner.Fail(ExitCodes.Usage, $"--payload is not valid JSON ({ex.Message})");
            }

            await using var connection = await broker.ConnectAsync(parse, cancellationToken);
            var topics = connection.Topics;
            var outcome = await connection.RequestAsync(
                topics.Command(id, name),
                System.Text.Encoding.UTF8.GetBytes(arguments),
                topics.CommandResponse(id, Guid.NewGuid().ToString("N")),
                TimeSpan.FromSeconds(seconds),
                cancellationToken: cancellationToken);
            if (outcome.NoSubscribers)
            {
                return CliRunner.Fail(ExitCodes.DeviceUnreachable, $"device {id} is not connected: the broker has no subscriber for {topics.Command(id, name)} (status: {await StatusTextAsync(connection, id, cancellationToken)})");
            }

            if (outcome.Answer is not { } answer)
            {
                return CliRunner.Fail(ExitCodes.DeviceUnreachable, $"no answer from {id} within {seconds.ToString(CultureInfo.InvariantCulture)} s (status: {await StatusTextAsync(connection, id, cancellationToken)})");
            }

            using var doc = JsonDocument.Parse(answer);
            var root = doc.RootElement;
            var ok = root.TryGetProperty("ok", out var okValue) && okValue.ValueKind == JsonValueKind.True;
            string? written = null;
            if (ok && root.TryGetProperty("bundle", out var bundle) && bundle.ValueKind == JsonValueKind.String)
            {
                var content = bundle.GetBytesFromBase64();
                var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content));
                if (root.TryGetProperty("sha256", out var expected) && expected.GetString() != sha)
                {
                    return CliRunner.Fail(ExitCodes.Error, $"the bundle from {id} does not match its sha256 ({sha}, expected {expected.GetString()})");
                }

                written = SupportBundleCommand.Write(parse.GetValue(output), root.TryGetProperty("fileName", out var file) ? file.GetString() : null, content);
                if (!parse.GetValue(json))
                {
                    Console.WriteLine($"wrote {written} ({content.Length} bytes, sha256 {sha})");
                }
            }

            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(WithoutBundle(root, written));
            }
            else if (written is null && ok)
            {
                Console.WriteLine(JsonSerializer.Serialize(WithoutBundle(root, null), Core.CoreJson.Indented));
            }

            if (!ok)
            {
                var error = root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : root.GetRawText();
                return CliRunner.Fail(ExitCodes.Error, $"{id} answered {name}: {error}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>
    /// <c>edgectl fleet dashboard</c>: a web page over the broker (devices, rollouts, drift, alerts) until Ctrl-C or
    /// SIGTERM; read-only unless <c>--operator</c> (docs/dashboard.md).
    /// </summary>
    private static Command DashboardCommand()
    {
        var listen = new Option<string>("--listen") { Description = "Where the web server listens, IP:PORT or localhost:PORT (port 0: a free port)", DefaultValueFactory = _ => DashboardSettings.DefaultListen };
        var control = new Option<bool>("--operator") { Description = "Let the page pause, resume and abort rollouts (with this broker identity); read-only otherwise" };
        var broker = new BrokerOptions();
        var json = CommonOptions.Json();
        var command = new Command("dashboard", "Serve a live web dashboard of the fleet, its rollouts, drift and alerts") { listen, control, json };
        broker.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            if (!DashboardSettings.TryParseListen(parse.GetValue(listen), out var endpoint, out var error))
            {
                return CliRunner.Fail(ExitCodes.Usage, $"--listen {error}");
            }

            if (!BrokerAddress.TryParse(parse.GetValue(broker.Broker), out _, out var brokerError))
            {
                return CliRunner.Fail(ExitCodes.Usage, $"--broker {brokerError}");
            }

            // TLS files are read (and checked) now, for a usage error before anything starts.
            broker.TlsOf(parse)?.Dispose();
            using var logging = LoggerFactory.Create(b => b
                .AddSimpleConsole(o => o.SingleLine = true)
                .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
                .SetMinimumLevel(LogLevel.Warning));
            var settings = new DashboardSettings
            {
                Connect = ct => broker.ConnectAsync(parse, ct),
                Listen = endpoint!,
                Operator = parse.GetValue(control),
                LoggerFactory = logging,
            };
            DashboardHost host;
            try
            {
                host = await DashboardHost.StartAsync(settings, cancellationToken);
            }
            catch (BrokerUnreachableException ex)
            {
                return CliRunner.Fail(ExitCodes.AgentUnreachable, ex.Message);
            }
            catch (IOException ex)
            {
                return CliRunner.Fail(ExitCodes.Error, ex.Message);
            }

            await using (host)
            {
                if (!host.ReadOnly && !System.Net.IPAddress.IsLoopback(endpoint!.Address))
                {
                    Console.Error.WriteLine($"edgectl: warning: --operator on {host.Url.Authority}: anyone who can reach this port can pause and abort rollouts (there is no login); bind to 127.0.0.1 or put an authenticating proxy in front");
                }

                Console.WriteLine(parse.GetValue(json)
                    ? JsonSerializer.Serialize(new { url = host.Url.ToString(), readOnly = host.ReadOnly }, Core.CoreJson.Options)
                    : $"dashboard: {host.Url} ({(host.ReadOnly ? "read-only" : "operator: control enabled")})");
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // Ctrl-C or SIGTERM: stop serving.
                }
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The answer without its base64 <c>bundle</c> (written to a file instead, named in <c>out</c>).</summary>
    private static Dictionary<string, JsonElement> WithoutBundle(JsonElement answer, string? written)
    {
        var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in answer.EnumerateObject())
        {
            if (!property.NameEquals("bundle"))
            {
                fields[property.Name] = property.Value.Clone();
            }
        }

        if (written is not null)
        {
            fields["out"] = JsonSerializer.SerializeToElement(written);
        }

        return fields;
    }

    /// <summary>The device's retained status in words, for an error line: "offline (session 7)", "never seen", ...</summary>
    private static async Task<string> StatusTextAsync(Fleet.Mqtt.FleetConnection connection, string id, CancellationToken cancellationToken)
    {
        var retained = await connection.ReadRetainedAsync(connection.Topics.Status(id), TimeSpan.FromSeconds(1), cancellationToken);
        return Core.Mqtt.DeviceStatus.TryParse(retained) is { } status
            ? $"{status.State} (session {status.Seq.ToString(CultureInfo.InvariantCulture)})"
            : retained is { Length: > 0 } ? "unreadable" : "no retained status: never seen";
    }

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
