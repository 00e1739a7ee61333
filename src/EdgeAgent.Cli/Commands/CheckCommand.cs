using System.CommandLine;
using System.Text.Json;
using EdgeAgent.Agent.Options;
using Microsoft.Extensions.Configuration;
using Spectre.Console;

namespace EdgeAgent.Cli.Commands;

/// <summary>
/// <c>edgectl check</c>: a device self-check. From the agent's status: broker connection, the reconcile loop's watchdog,
/// desired state, each model's deployment, the execution provider each model runs on (a fallback is a warning, never
/// silent), GPIO, the outbox. From the device (<see cref="DeviceChecks"/>): the config file, the state directory and
/// disk, the trust root, the systemd unit, the clock.
/// </summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var socket = CommonOptions.Socket();
        var json = CommonOptions.Json();
        var config = new Option<string?>("--config")
        {
            Description = $"The agent's config file (default: $EDGEAGENT_CONFIG or {DeviceChecks.DefaultConfig})",
        };
        var unit = new Option<string>("--unit")
        {
            Description = "The agent's systemd unit",
            DefaultValueFactory = _ => "edge-agent",
        };
        var command = new Command("check", "Check this device: config, agent, broker, models, execution providers, outbox, state directory and disk, trust root, systemd unit, clock (exit 1 on a failure)") { socket, json, config, unit };
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            var named = parse.GetValue(config) ?? Environment.GetEnvironmentVariable("EDGEAGENT_CONFIG");
            var (checks, unreachable) = await RunAsync(parse.GetValue(socket)!, named, parse.GetValue(unit)!, cancellationToken);
            var ok = checks.All(c => c.Status != "fail");
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(new { ok, checks });
            }
            else
            {
                foreach (var c in checks)
                {
                    var mark = c.Status switch { "ok" => "[green]ok  [/]", "warn" => "[yellow]warn[/]", _ => "[red]FAIL[/]" };
                    AnsiConsole.MarkupLine($"{mark} {Markup.Escape(c.Name)}: {Markup.Escape(c.Detail)}");
                }
            }

            return unreachable ? ExitCodes.AgentUnreachable : ok ? ExitCodes.Ok : ExitCodes.Error;
        }));
        return command;
    }

    /// <summary>Every check (also used by <c>edgectl support-bundle</c>); <c>Unreachable</c> when the agent's socket did not answer.</summary>
    internal static async Task<(List<Check> Checks, bool Unreachable)> RunAsync(string socket, string? named, string unit, CancellationToken cancellationToken)
    {
        var checks = new List<Check>();
        var (configCheck, configuration) = DeviceChecks.Config(named ?? DeviceChecks.DefaultConfig, named is not null);
        checks.Add(configCheck);

        // The agent's own view, over its API socket (TLS to the broker included). Unreachable: still check the device.
        string? stateDirectory = null;
        var unreachable = false;
        try
        {
            using var client = new AgentApiClient(socket);
            using var status = await client.GetJsonAsync("/v1/status", cancellationToken);
            checks.AddRange(Evaluate(status.RootElement));
            stateDirectory = Text(status.RootElement, "stateDirectory") is var dir && dir != "-" ? dir : null;
        }
        catch (AgentUnreachableException ex)
        {
            unreachable = true;
            checks.Add(new("agent", "fail", ex.Message));
        }

        checks.AddRange(Local(configuration, stateDirectory, unit));
        return (checks, unreachable);
    }

    /// <summary>The device checks: state directory and disk, trust, systemd unit, clock.</summary>
    private static IEnumerable<Check> Local(IConfiguration? configuration, string? statusStateDirectory, string unit)
    {
        var agent = new AgentOptions();
        configuration?.GetSection(AgentOptions.Section).Bind(agent);
        var stateDirectory = configuration?.GetSection(AgentOptions.Section)[nameof(AgentOptions.StateDirectory)] ?? statusStateDirectory ?? agent.StateDirectory;
        yield return DeviceChecks.StateDirectory(stateDirectory);
        yield return DeviceChecks.Disk(stateDirectory, agent.DiskBudgetMegabytes, agent.DiskReserveMegabytes);
        if (configuration is not null)
        {
            yield return DeviceChecks.Trust(configuration, DateTimeOffset.UtcNow);
        }

        yield return DeviceChecks.SystemdUnit(unit);
        yield return DeviceChecks.Clock(DateTimeOffset.UtcNow);
    }

    private static List<Check> Evaluate(JsonElement root)
    {
        var checks = new List<Check> { new("agent", "ok", $"{Text(root, "deviceId")} running agent {Text(root, "agentVersion")}") };
        var broker = root.GetProperty("broker");
        checks.Add(broker.GetProperty("connected").GetBoolean()
            ? new("broker", "ok", $"connected to {Text(broker, "url")}")
            : new("broker", "fail", $"not connected to {Text(broker, "url")} ({broker.GetProperty("reconnects")} reconnects so far); the agent keeps serving and buffers telemetry"));
        checks.AddRange(TlsChecks(root, DateTimeOffset.UtcNow));
        if (root.TryGetProperty("watchdog", out var watchdog) && watchdog.ValueKind == JsonValueKind.Object)
        {
            checks.Add(Text(watchdog, "state") == "stalled"
                ? new("reconcile loop", "fail", $"stalled: no progress for {watchdog.GetProperty("lastBeatSecondsAgo")} s (Agent:WatchdogSeconds {watchdog.GetProperty("timeoutSeconds")}); deployments wait and GPIO rule pins are held in their safe state")
                : new("reconcile loop", "ok", $"making progress (last beat {watchdog.GetProperty("lastBeatSecondsAgo")} s ago)"));
        }

        if (root.TryGetProperty("desiredError", out var desiredError) && desiredError.ValueKind == JsonValueKind.String)
        {
            checks.Add(new("desired state", "warn", $"the latest document was refused: {desiredError.GetString()}"));
        }

        foreach (var m in root.GetProperty("models").EnumerateArray())
        {
            var name = $"model {Text(m, "name")}";
            var state = Text(m, "state");
            var reason = m.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            checks.Add(state switch
            {
                "Active" => new(name, "ok", $"{Text(m, "activeVersion")} Active"),
                "Probation" => new(name, "ok", $"{Text(m, "activeVersion")} in probation"),
                "Failed" or "RolledBack" => new(name, Text(m, "activeVersion") == "-" ? "fail" : "warn", $"{Text(m, "version")} {state}: {reason}; serving {Text(m, "activeVersion")}"),
                _ => new(name, "ok", $"{Text(m, "version")} {state} (serving {Text(m, "activeVersion")})"),
            });
        }

        if (root.TryGetProperty("serving", out var serving))
        {
            foreach (var s in serving.EnumerateArray())
            {
                var provider = $"{Text(s, "name")} {Text(s, "version")} runs on {Text(s, "executionProvider")}";
                checks.Add(s.TryGetProperty("fallback", out var f) && f.ValueKind == JsonValueKind.String
                    ? new("execution provider", "warn", $"{provider}: {f.GetString()}")
                    : new("execution provider", "ok", provider));
                if (LatencyCheck(root, s) is { } latency)
                {
                    checks.Add(latency);
                }
            }
        }

        if (root.TryGetProperty("gpio", out var gpio) && gpio.ValueKind == JsonValueKind.Object
            && gpio.TryGetProperty("enabled", out var enabled) && enabled.ValueKind == JsonValueKind.True)
        {
            checks.Add(gpio.TryGetProperty("available", out var available) && available.ValueKind == JsonValueKind.True
                ? new("gpio", "ok", gpio.TryGetProperty("dryRun", out var dry) && dry.ValueKind == JsonValueKind.True ? "dry run: pin writes are logged" : "available")
                : new("gpio", "warn", $"not available ({Text(gpio, "error")}); the agent serves without driving pins"));
        }

        var outbox = root.GetProperty("outbox");
        var dropped = OutboxText.Dropped(outbox);
        checks.Add(dropped.Total > 0
            ? new("outbox", "warn", $"{dropped.Total} records dropped over the outbox budget ({dropped.Text}); {outbox.GetProperty("depth")} waiting")
            : new("outbox", "ok", $"{outbox.GetProperty("depth")} waiting, {outbox.GetProperty("delivered")} delivered"));
        return checks;
    }

    /// <summary>
    /// Broker TLS (only for an mqtts:// broker): the broker's chain as validated at the last handshake, and days until the
    /// client certificate or the CA expires (warning under 30 days, failure once expired).
    /// </summary>
    internal static IEnumerable<Check> TlsChecks(JsonElement status, DateTimeOffset now)
    {
        if (!status.TryGetProperty("tls", out var tls) || tls.ValueKind != JsonValueKind.Object)
        {
            yield break;
        }

        if (tls.TryGetProperty("serverCertificate", out var server) && server.ValueKind == JsonValueKind.Object)
        {
            yield return server.TryGetProperty("valid", out var valid) && valid.ValueKind == JsonValueKind.True
                ? new("broker tls chain", "ok", $"the broker's certificate {Text(server, "subject")} is valid (expires {Text(server, "expires")})")
                : new("broker tls chain", "fail", $"{Text(server, "error")}; check Mqtt:CaFile holds the CA that signed the broker's certificate and that Mqtt:Url names a host in it");
        }

        foreach (var (field, what, hint) in new[]
        {
            ("clientCertificateExpires", "client certificate", "issue a new one and replace Mqtt:ClientCertificateFile and Mqtt:ClientKeyFile (read at the next connect)"),
            ("caExpires", "CA", "replace Mqtt:CaFile with the renewed CA bundle"),
        })
        {
            if (!tls.TryGetProperty(field, out var expiresText) || expiresText.ValueKind != JsonValueKind.String
                || !DateTimeOffset.TryParse(expiresText.GetString(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var expires))
            {
                continue;
            }

            var days = Core.Mqtt.BrokerTls.DaysLeft(expires, now);
            yield return expires <= now
                ? new($"broker tls {what}", "fail", $"expired {expires:yyyy-MM-dd}; {hint}")
                : days < 30
                    ? new($"broker tls {what}", "warn", $"expires in {days} days ({expires:yyyy-MM-dd}); {hint}")
                    : new($"broker tls {what}", "ok", $"expires in {days} days ({expires:yyyy-MM-dd})");
        }
    }

    /// <summary>
    /// <c>Serving:LatencySloMilliseconds</c> against what the model showed: its staging warm-up mean, or, for a session
    /// reloaded at start-up (no warm-up), the p95 of its last metrics window. Null when no budget is configured.
    /// </summary>
    private static Check? LatencyCheck(JsonElement root, JsonElement serving)
    {
        if (!serving.TryGetProperty("latencySloMs", out var sloElement) || sloElement.ValueKind != JsonValueKind.Number)
        {
            return null;
        }

        var slo = sloElement.GetDouble();
        var name = Text(serving, "name");
        string what;
        double measured;
        if (serving.TryGetProperty("warmupMs", out var warmup) && warmup.ValueKind == JsonValueKind.Number)
        {
            (what, measured) = ("warm-up mean", warmup.GetDouble());
        }
        else if (root.TryGetProperty("models", out var models) && models.EnumerateArray()
            .FirstOrDefault(m => Text(m, "name") == name) is { ValueKind: JsonValueKind.Object } model
            && model.TryGetProperty("p95Ms", out var p95) && p95.ValueKind == JsonValueKind.Number && p95.GetDouble() > 0)
        {
            (what, measured) = ("p95 of the last window", p95.GetDouble());
        }
        else
        {
            return new("model latency", "warn", $"{name}: no measurement yet against the {slo} ms budget (loaded at start-up without a warm-up and no traffic yet)");
        }

        var text = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{name} {Text(serving, "version")}: {what} {measured:0.###} ms, budget {slo} ms (Serving:LatencySloMilliseconds)");
        return measured <= slo ? new("model latency", "ok", text) : new("model latency", "fail", text + "; a slower device, another execution provider or fewer threads than the model needs");
    }

    private static string Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "-";
}
