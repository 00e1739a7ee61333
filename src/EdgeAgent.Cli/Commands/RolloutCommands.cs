using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeAgent.Core;
using EdgeAgent.Core.Mqtt;
using EdgeAgent.Fleet.Mqtt;
using EdgeAgent.Fleet.Rollouts;
using Spectre.Console;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgectl rollout</c>: staged rollouts over MQTT with quality-gated waves (docs/edgectl.md#rollout).</summary>
internal static class RolloutCommands
{
    public static Command Create() => new("rollout", "Staged rollouts of a model version over MQTT, gated on what devices report")
    {
        StartCommand(), StatusCommand(), ListCommand(), PauseCommand(), ResumeCommand(), AbortCommand(),
    };

    private static Command StartCommand()
    {
        var model = new Option<string>("--model") { Description = "Model name", Required = true };
        var version = new Option<string>("--version") { Description = "Version to roll out", Required = true };
        var devices = new Option<string?>("--devices") { Description = "Target devices, comma-separated, in rollout order" };
        var group = new Option<string?>("--group") { Description = "Target the devices whose reported state lists this group" };
        var waves = new Option<string>("--waves") { Description = "Cumulative wave sizes, counts or percentages", DefaultValueFactory = _ => WavePlan.DefaultSpec };
        var success = new Option<string>("--success-threshold") { Description = "Share of a wave that must reach Active before the next wave", DefaultValueFactory = _ => "95%" };
        var abort = new Option<string>("--abort-threshold") { Description = "Abort when more than this share of the devices targeted so far failed", DefaultValueFactory = _ => "5%" };
        var probation = new Option<string?>("--probation") { Description = "Probation the devices apply (probationSeconds in desired state), e.g. 60s, 5m" };
        var waveTimeout = new Option<string>("--wave-timeout") { Description = "A targeted device that is not Active this long after it was targeted counts as failed", DefaultValueFactory = _ => "30m" };
        var id = new Option<string?>("--id") { Description = "Rollout id (default MODEL-VERSION-yyyyMMddHHmmss)" };
        var keepSucceeded = new Option<bool>("--keep-succeeded") { Description = "On abort, leave the devices that succeeded on the new version (by default they revert to the version they kept)" };
        var broker = new BrokerOptions();
        var json = CommonOptions.Json();
        var command = new Command("start", "Start a rollout and drive it wave by wave until it completes or aborts")
        {
            model, version, devices, group, waves, success, abort, probation, waveTimeout, id, keepSucceeded, json,
        };
        broker.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            var name = parse.GetValue(model)!;
            var ver = parse.GetValue(version)!;
            var rolloutId = parse.GetValue(id) ?? $"{name}-{ver}-{DateTime.UtcNow:yyyyMMddHHmmss}";
            RolloutRequest request;
            try
            {
                if (!Core.Bundles.ManifestVerifier.IsValidModelName(name))
                {
                    throw new FormatException($"--model '{name}' is not a model name (lowercase letters, digits, '.', '_', '-'; up to 64)");
                }

                if (!SemVersion.TryParse(ver, out var semver) || semver.HasBuildMetadata)
                {
                    throw new FormatException($"--version '{ver}' is not a semantic version such as 1.0.0 (no '+build' metadata)");
                }

                if (!DeviceIds.IsValid(rolloutId))
                {
                    throw new FormatException($"--id '{rolloutId}' is not a rollout id (letters, digits, '.', '_', '-'; no MQTT wildcards or '/')");
                }

                var list = parse.GetValue(devices);
                var groupName = parse.GetValue(group);
                if ((list is null) == (groupName is null))
                {
                    throw new FormatException("give either --devices or --group");
                }

                var targets = list?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList() ?? [];
                if (list is not null && targets.Count == 0)
                {
                    throw new FormatException("--devices lists no device");
                }

                if (targets.FirstOrDefault(t => !DeviceIds.IsValid(t)) is { } bad)
                {
                    throw new FormatException($"--devices: '{bad}' is not a device id (letters, digits, '.', '_', '-'; no MQTT wildcards or '/')");
                }

                if (groupName is not null && !DeviceIds.IsValid(groupName))
                {
                    throw new FormatException($"--group '{groupName}' is not a group name (letters, digits, '.', '_', '-')");
                }

                request = new RolloutRequest
                {
                    Id = rolloutId,
                    Model = name,
                    Version = ver,
                    Targets = targets,
                    Group = groupName,
                    Waves = WavePlan.Parse(parse.GetValue(waves)!),
                    SuccessThreshold = Fractions.Parse(parse.GetValue(success)!, "--success-threshold"),
                    AbortThreshold = Fractions.Parse(parse.GetValue(abort)!, "--abort-threshold"),
                    Probation = parse.GetValue(probation) is { } p ? Durations.Parse(p, "--probation") : null,
                    WaveTimeout = Durations.Parse(parse.GetValue(waveTimeout)!, "--wave-timeout"),
                    RollbackSucceeded = !parse.GetValue(keepSucceeded),
                };
            }
            catch (FormatException ex)
            {
                return CliRunner.Fail(ExitCodes.Usage, ex.Message);
            }

            await using var connection = await broker.ConnectWithWillAsync(parse, t => t.RolloutDriver(rolloutId), cancellationToken);
            var manifest = connection.Topics.Manifest(name, ver);
            if (await connection.ReadRetainedAsync(manifest, TimeSpan.FromSeconds(5), cancellationToken) is not { Length: > 0 })
            {
                // Devices would wait for it until the wave timeout: say so now.
                return CliRunner.Fail(ExitCodes.Error, $"{name} {ver} is not published (nothing retained on {manifest}); run 'edgectl bundle publish' first");
            }

            if (request.Group is { } g)
            {
                var members = await RolloutTargets.OfGroupAsync(connection, g, TimeSpan.FromSeconds(5), TimeProvider.System, cancellationToken);
                if (members.Count == 0)
                {
                    return CliRunner.Fail(ExitCodes.Error, $"no device reports group '{g}' (retained {connection.Topics.AllDevices("reported")} documents with \"groups\")");
                }

                request = request with { Targets = members };
            }

            using var driver = new RolloutDriver(connection, rolloutId, RolloutDriver.NewWriter());
            var doc = await driver.CreateAsync(request, cancellationToken);
            var progress = Progress();
            progress.MarkupLine($"rollout [bold]{Markup.Escape(rolloutId)}[/]: {Markup.Escape(name)} {Markup.Escape(ver)} to {doc.Targets.Count} device(s) in {doc.WaveSizes.Count} wave(s) ({string.Join(", ", doc.WaveSizes)}), success {Fractions.Format(doc.SuccessThreshold)}, abort above {Fractions.Format(doc.AbortThreshold)}");
            return await DriveAsync(driver, doc, progress, parse.GetValue(json), cancellationToken);
        }));
        return command;
    }

    private static Command StatusCommand()
    {
        var id = IdArgument();
        var broker = new BrokerOptions();
        var json = CommonOptions.Json();
        var command = new Command("status", "Show a rollout's state, waves and devices") { id, json };
        broker.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            await using var connection = await broker.ConnectAsync(parse, cancellationToken);
            var rolloutId = parse.GetValue(id)!;
            var doc = await RolloutDriver.ReadAsync(connection, ValidId(rolloutId), cancellationToken: cancellationToken);
            if (doc is null)
            {
                return CliRunner.Fail(ExitCodes.Error, $"no rollout '{rolloutId}' on {connection.Topics.Rollout(rolloutId)}");
            }

            var driver = doc.IsFinal ? null : await RolloutDriver.DriverOfAsync(connection, rolloutId, cancellationToken: cancellationToken);
            if (parse.GetValue(json))
            {
                var node = JsonSerializer.SerializeToNode(doc, CoreJson.Options)!.AsObject();
                if (driver is not null)
                {
                    node["driver"] = driver;
                }

                Console.WriteLine(node.ToJsonString(CoreJson.Indented));
                return ExitCodes.Ok;
            }

            AnsiConsole.MarkupLine($"rollout [bold]{Markup.Escape(doc.Id)}[/]: {Markup.Escape(doc.Model)} {Markup.Escape(doc.Version)}  {StateMarkup(doc.State)}  {Markup.Escape(RolloutDriver.Summary(doc))}");
            AnsiConsole.MarkupLine($"waves {Markup.Escape(string.Join(",", doc.Waves))} = {string.Join(", ", doc.WaveSizes)} device(s); success {Fractions.Format(doc.SuccessThreshold)}, abort above {Fractions.Format(doc.AbortThreshold)}, wave timeout {doc.WaveTimeoutSeconds.ToString(CultureInfo.InvariantCulture)} s{(doc.ProbationSeconds is { } p ? $", probation {p} s" : string.Empty)}{(doc.Group is { } g ? $", group {Markup.Escape(g)}" : string.Empty)}");
            if (!doc.IsFinal)
            {
                AnsiConsole.MarkupLine(driver is null ? "driver: [yellow]none[/] (run 'edgectl rollout resume " + Markup.Escape(doc.Id) + "' to drive it)" : $"driver: {Markup.Escape(driver)}");
            }

            if (doc.Reason is { } reason)
            {
                AnsiConsole.MarkupLine($"reason: {Markup.Escape(reason)}");
            }

            var table = new Table().AddColumns("device", "wave", "status", "restored", "reason");
            foreach (var target in doc.Targets)
            {
                var d = doc.Devices[target];
                table.AddRow(Markup.Escape(target), d.Wave?.ToString(CultureInfo.InvariantCulture) ?? "-", DeviceMarkup(d.Status), d.Restored == true ? "yes" : "-", Markup.Escape(d.Reason ?? "-"));
            }

            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command ListCommand()
    {
        var broker = new BrokerOptions();
        var json = CommonOptions.Json();
        var command = new Command("list", "List the rollouts retained on the broker") { json };
        broker.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            await using var connection = await broker.ConnectAsync(parse, cancellationToken);
            var seen = await RetainedSnapshot.CollectAsync(connection, [connection.Topics.Rollouts()], RetainedSnapshot.DefaultQuiet, TimeSpan.FromSeconds(5), TimeProvider.System, cancellationToken);
            var docs = new List<RolloutDocument>();
            foreach (var (topic, (payload, _)) in seen.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                try
                {
                    docs.Add(RolloutDocument.Parse(payload, topic));
                }
                catch (InvalidDataException ex)
                {
                    await Console.Error.WriteLineAsync($"edgectl: skipped {topic}: {ex.Message}");
                }
            }

            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(docs.Select(d => new { id = d.Id, model = d.Model, version = d.Version, state = d.State, currentWave = d.CurrentWave, waves = d.WaveSizes.Count, counts = d.Counts, reason = d.Reason, created = d.Created, updated = d.Updated }));
                return ExitCodes.Ok;
            }

            var table = new Table().AddColumns("id", "model", "version", "state", "wave", "succeeded", "failed", "targets", "updated");
            foreach (var d in docs)
            {
                var c = d.Counts;
                table.AddRow(Markup.Escape(d.Id), Markup.Escape(d.Model), Markup.Escape(d.Version), StateMarkup(d.State), $"{d.CurrentWave}/{d.WaveSizes.Count}", c.Succeeded.ToString(CultureInfo.InvariantCulture), c.Failed.ToString(CultureInfo.InvariantCulture), d.Targets.Count.ToString(CultureInfo.InvariantCulture), d.Updated.ToString("u", CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command PauseCommand()
    {
        var id = IdArgument();
        var broker = new BrokerOptions();
        var json = CommonOptions.Json();
        var command = new Command("pause", "Pause a running rollout: no new wave starts, no gate decides, until resume or abort") { id, json };
        broker.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            var rolloutId = ValidId(parse.GetValue(id)!);
            await using var connection = await broker.ConnectAsync(parse, cancellationToken);
            var doc = await RolloutControl.PauseAsync(connection, rolloutId, RolloutDriver.NewWriter(), TimeProvider.System, cancellationToken);
            return Done(doc, parse.GetValue(json), $"rollout {rolloutId} paused ({RolloutDriver.Summary(doc)})");
        }));
        return command;
    }

    private static Command ResumeCommand()
    {
        var id = IdArgument();
        var broker = new BrokerOptions();
        var json = CommonOptions.Json();
        var command = new Command("resume", "Resume a paused rollout; when no edgectl drives it (its process died), drive it from here") { id, json };
        broker.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            var rolloutId = ValidId(parse.GetValue(id)!);
            await using var connection = await broker.ConnectWithWillAsync(parse, t => t.RolloutDriver(rolloutId), cancellationToken);
            using var driver = new RolloutDriver(connection, rolloutId, RolloutDriver.NewWriter());
            var doc = await RolloutControl.ResumeAsync(connection, rolloutId, driver.Writer, TimeProvider.System, cancellationToken);
            if (await RolloutDriver.DriverOfAsync(connection, rolloutId, cancellationToken: cancellationToken) is { } other)
            {
                return Done(doc, parse.GetValue(json), $"rollout {rolloutId} running; driven by {other}");
            }

            // Taking over: the time nobody drove the rollout does not count against the devices still deploying.
            doc = await RolloutDriver.PublishAsync(connection, RolloutGate.Resume(doc, DateTimeOffset.UtcNow), driver.Writer, DateTimeOffset.UtcNow, cancellationToken);
            var progress = Progress();
            progress.MarkupLine($"rollout [bold]{Markup.Escape(rolloutId)}[/]: resuming here ({Markup.Escape(RolloutDriver.Summary(doc))})");
            return await DriveAsync(driver, doc, progress, parse.GetValue(json), cancellationToken);
        }));
        return command;
    }

    private static Command AbortCommand()
    {
        var id = IdArgument();
        var rollbackSucceeded = new Option<bool>("--rollback-succeeded") { Description = "Also write back the devices that succeeded (for a rollout started with --keep-succeeded)" };
        var broker = new BrokerOptions();
        var json = CommonOptions.Json();
        var command = new Command("abort", "Abort a rollout and write the targeted devices' previous desired entries back") { id, rollbackSucceeded, json };
        broker.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            var rolloutId = ValidId(parse.GetValue(id)!);
            await using var connection = await broker.ConnectAsync(parse, cancellationToken);
            var progress = Progress();
            var doc = await RolloutControl.AbortAsync(connection, rolloutId, parse.GetValue(rollbackSucceeded), RolloutDriver.NewWriter(), TimeProvider.System, line => progress.MarkupLine(Markup.Escape(line)), cancellationToken);
            return Done(doc, parse.GetValue(json), $"rollout {rolloutId} aborted: {doc.Reason} ({RolloutDriver.Summary(doc)}; {doc.Devices.Values.Count(d => d.Restored == true)} device(s) written back)");
        }));
        return command;
    }

    private static async Task<int> DriveAsync(RolloutDriver driver, RolloutDocument doc, IAnsiConsole progress, bool json, CancellationToken cancellationToken)
    {
        driver.Progress += (_, line) => progress.MarkupLine($"[grey]{DateTime.Now:HH:mm:ss}[/] {Markup.Escape(line)}");
        doc = await driver.DriveAsync(doc, cancellationToken);
        var text = doc.State == RolloutStates.Completed
            ? $"rollout {doc.Id} completed: {RolloutDriver.Summary(doc)}{(doc.Reason is { } r ? $" ({r})" : string.Empty)}"
            : $"rollout {doc.Id} aborted: {doc.Reason} ({RolloutDriver.Summary(doc)}; {doc.Devices.Values.Count(d => d.Restored == true)} device(s) written back)";
        Done(doc, json, text);
        return doc.State == RolloutStates.Completed ? ExitCodes.Ok : ExitCodes.RolloutAborted;
    }

    private static int Done(RolloutDocument doc, bool json, string text)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(doc, CoreJson.Indented));
        }
        else
        {
            Console.WriteLine(text);
        }

        return ExitCodes.Ok;
    }

    private static string ValidId(string rolloutId) =>
        DeviceIds.IsValid(rolloutId) ? rolloutId : throw new ArgumentException($"'{rolloutId}' is not a rollout id (letters, digits, '.', '_', '-')");

    private static Argument<string> IdArgument() => new("id") { Description = "Rollout id" };

    /// <summary>Progress goes to stderr, so stdout carries only the result (and --json stays parseable).</summary>
    private static IAnsiConsole Progress()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        if (Console.IsErrorRedirected)
        {
            // Logged output: one line per event, not wrapped at 80 columns.
            console.Profile.Width = 200;
        }

        return console;
    }

    private static string StateMarkup(string state) => state switch
    {
        RolloutStates.Running => "[blue]running[/]",
        RolloutStates.Paused => "[yellow]paused[/]",
        RolloutStates.Completed => "[green]completed[/]",
        RolloutStates.Aborted => "[red]aborted[/]",
        _ => Markup.Escape(state),
    };

    private static string DeviceMarkup(string status) => status switch
    {
        RolloutDeviceStatus.Succeeded => "[green]succeeded[/]",
        RolloutDeviceStatus.Failed => "[red]failed[/]",
        RolloutDeviceStatus.Targeted => "[blue]targeted[/]",
        _ => Markup.Escape(status),
    };
}
