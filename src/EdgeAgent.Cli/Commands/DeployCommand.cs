using System.CommandLine;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Cli.Commands;

internal static class DeployCommand
{
    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "Device id", Required = true };
        var model = new Option<string>("--model") { Description = "Model name", Required = true };
        var version = new Option<string>("--version") { Description = "Version to run", Required = true };
        var broker = CommonOptions.Broker();
        var prefix = CommonOptions.Prefix();
        var username = CommonOptions.Username();
        var password = CommonOptions.Password();
        var json = CommonOptions.Json();
        var command = new Command("deploy", "Set a model version in a device's desired state (retained; other models are kept)") { device, model, version, broker, prefix, username, password, json };
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            if (!Core.Mqtt.DeviceIds.IsValid(parse.GetValue(device)))
            {
                return CliRunner.Fail(ExitCodes.Usage, $"--device '{parse.GetValue(device)}' is not a device id (letters, digits, '.', '_', '-'; no MQTT wildcards or '/')");
            }

            if (!Core.Bundles.ManifestVerifier.IsValidModelName(parse.GetValue(model)))
            {
                return CliRunner.Fail(ExitCodes.Usage, $"--model '{parse.GetValue(model)}' is not a model name (lowercase letters, digits, '.', '_', '-'; up to 64)");
            }

            if (!Core.SemVersion.TryParse(parse.GetValue(version), out var semver) || semver.HasBuildMetadata)
            {
                return CliRunner.Fail(ExitCodes.Usage, $"--version '{parse.GetValue(version)}' is not a semantic version such as 1.0.0 (no '+build' metadata)");
            }

            await using var connection = await FleetConnection.ConnectAsync(parse.GetValue(broker)!, parse.GetValue(prefix)!, username: parse.GetValue(username), password: parse.GetValue(password) ?? Environment.GetEnvironmentVariable("EDGECTL_MQTT_PASSWORD"), cancellationToken: cancellationToken);
            var id = parse.GetValue(device)!;

            var desired = await DesiredStateWriter.SetModelAsync(connection, id, parse.GetValue(model)!, parse.GetValue(version)!, cancellationToken: cancellationToken);
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(new { device = id, topic = connection.Topics.DeviceDesired(id), desired });
            }
            else
            {
                Console.WriteLine($"desired state of {id}: {string.Join(", ", desired.Models.Select(m => $"{m.Name} {m.Version}"))}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}
