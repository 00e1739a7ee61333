using System.CommandLine;
using EdgeAgent.Core.Desired;
using EdgeAgent.Fleet.Mqtt;
using EdgeAgent.Fleet.Rollouts;

namespace EdgeAgent.Cli.Commands;

internal static class DeployCommand
{
    public static Command Create()
    {
        var device = new Option<string?>("--device") { Description = "Device id (or --group)" };
        var group = new Option<string?>("--group") { Description = "Group name: writes {p}/groups/GROUP/desired, followed by devices with the group in Agent:Groups" };
        var model = new Option<string>("--model") { Description = "Model name", Required = true };
        var version = new Option<string?>("--version") { Description = "Version to run (required unless --remove)" };
        var remove = new Option<bool>("--remove") { Description = "Remove the model from the desired state instead (devices unload it)" };
        var probation = new Option<string?>("--probation") { Description = "Probation for this version, e.g. 90s, 5m, 0s (probationSeconds; default: the device's Agent:ProbationSeconds)" };
        var activateAfter = new Option<string?>("--activate-after") { Description = "Download and stage now, activate at or after this ISO 8601 time, e.g. 2026-11-28T02:00:00Z" };
        var broker = new BrokerOptions();
        var json = CommonOptions.Json();
        var command = new Command("deploy", "Set a model version in a device's or group's desired state (retained; other models are kept)")
        {
            device, group, model, version, remove, probation, activateAfter, json,
        };
        broker.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            var target = parse.GetValue(device) ?? parse.GetValue(group);
            if ((parse.GetValue(device) is null) == (parse.GetValue(group) is null))
            {
                return CliRunner.Fail(ExitCodes.Usage, "give exactly one of --device ID and --group NAME");
            }

            if (!Core.Mqtt.DeviceIds.IsValid(target))
            {
                var what = parse.GetValue(device) is null ? "--group '" + target + "' is not a group name" : "--device '" + target + "' is not a device id";
                return CliRunner.Fail(ExitCodes.Usage, $"{what} (letters, digits, '.', '_', '-'; no MQTT wildcards or '/')");
            }

            if (parse.GetValue(remove) && (parse.GetValue(version) is not null || parse.GetValue(probation) is not null || parse.GetValue(activateAfter) is not null))
            {
                return CliRunner.Fail(ExitCodes.Usage, "--remove takes no --version, --probation or --activate-after");
            }

            if (!parse.GetValue(remove) && parse.GetValue(version) is null)
            {
                return CliRunner.Fail(ExitCodes.Usage, "--version is required (or --remove)");
            }

            if (!Core.Bundles.ManifestVerifier.IsValidModelName(parse.GetValue(model)))
            {
                return CliRunner.Fail(ExitCodes.Usage, $"--model '{parse.GetValue(model)}' is not a model name (lowercase letters, digits, '.', '_', '-'; up to 64)");
            }

            DesiredModel? entry = null;
            if (!parse.GetValue(remove))
            {
                if (!Core.SemVersion.TryParse(parse.GetValue(version), out var semver) || semver.HasBuildMetadata)
                {
                    return CliRunner.Fail(ExitCodes.Usage, $"--version '{parse.GetValue(version)}' is not a semantic version such as 1.0.0 (no '+build' metadata)");
                }

                int? probationSeconds = null;
                DateTimeOffset? after = null;
                try
                {
                    probationSeconds = parse.GetValue(probation) is { } p ? (p.Trim() is "0" or "0s" ? 0 : (int)Math.Ceiling(Durations.Parse(p, "--probation").TotalSeconds)) : null;
                }
                catch (FormatException ex)
                {
                    return CliRunner.Fail(ExitCodes.Usage, ex.Message);
                }

                if (parse.GetValue(activateAfter) is { } text)
                {
                    if (!DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at) || !text.Contains('T', StringComparison.Ordinal))
                    {
                        return CliRunner.Fail(ExitCodes.Usage, $"--activate-after '{text}' is not an ISO 8601 time such as 2026-11-28T02:00:00Z");
                    }

                    after = at.ToUniversalTime();
                }

                entry = new DesiredModel(parse.GetValue(model)!, parse.GetValue(version)!) { ProbationSeconds = probationSeconds, ActivateAfter = after };
            }

            await using var connection = await broker.ConnectAsync(parse, cancellationToken);
            var topic = parse.GetValue(device) is { } id ? connection.Topics.DeviceDesired(id) : connection.Topics.GroupDesired(target!);
            var desired = await DesiredStateWriter.SetEntryAsync(connection, topic, parse.GetValue(model)!, entry, cancellationToken: cancellationToken);
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(new { device = parse.GetValue(device), group = parse.GetValue(group), topic, desired });
            }
            else
            {
                var models = desired.Models.Count == 0 ? "(nothing)" : string.Join(", ", desired.Models.Select(m => $"{m.Name} {m.Version}"));
                Console.WriteLine($"desired state of {(parse.GetValue(device) is null ? "group " : string.Empty)}{target}: {models}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}
