using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace EdgeAgent.Cli.Commands;

/// <summary>
/// <c>edgectl capture export --out DIR</c>: the samples the agent captured for retraining (<c>GET /v1/capture</c>), written
/// as one JSON line per sample under <c>DIR/MODEL/VERSION/samples.jsonl</c> plus <c>DIR/manifest.json</c>.
/// </summary>
internal static class CaptureCommands
{
    public static Command Create()
    {
        var capture = new Command("capture", "Samples captured on this device for retraining (Capture options)");
        capture.Subcommands.Add(Export());
        return capture;
    }

    private static Command Export()
    {
        var socket = CommonOptions.Socket();
        var json = CommonOptions.Json();
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder to write into (created; existing samples.jsonl files are appended to)", Required = true };
        var model = new Option<string?>("--model") { Description = "Only this model's samples" };
        var purge = new Option<bool>("--purge") { Description = "Delete the exported samples from the device once written" };
        var command = new Command("export", "Write the captured samples to a folder: MODEL/VERSION/samples.jsonl, one Open Inference Protocol request and its outputs per line") { socket, json, output, model, purge };
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            var dir = parse.GetValue(output)!;
            var only = parse.GetValue(model);
            using var client = new AgentApiClient(parse.GetValue(socket)!);
            Directory.CreateDirectory(dir.FullName);
            var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
            var reasons = new SortedDictionary<string, int>(StringComparer.Ordinal);
            long after = 0;
            long last = 0;
            var total = 0;
            while (true)
            {
                var path = $"/v1/capture?after={after.ToString(CultureInfo.InvariantCulture)}&limit=500" + (only is null ? string.Empty : "&model=" + Uri.EscapeDataString(only));
                using var page = await client.GetJsonAsync(path, cancellationToken);
                var samples = page.RootElement.GetProperty("samples");
                foreach (var sample in samples.EnumerateArray())
                {
                    var name = sample.GetProperty("model").GetString()!;
                    var version = sample.GetProperty("version").GetString()!;
                    var folder = Path.Combine(dir.FullName, Safe(name), Safe(version));
                    Directory.CreateDirectory(folder);
                    var data = sample.GetProperty("data");
                    var line = JsonSerializer.Serialize(new
                    {
                        id = sample.GetProperty("id").GetInt64(),
                        model = name,
                        version,
                        at = sample.GetProperty("at").GetDateTimeOffset(),
                        reason = sample.GetProperty("reason").GetString(),
                        request = new { inputs = data.GetProperty("inputs") },
                        outputs = data.GetProperty("outputs"),
                        redacted = data.TryGetProperty("redacted", out var r) ? r : default(JsonElement?),
                    }, Core.CoreJson.Options);
                    await File.AppendAllTextAsync(Path.Combine(folder, "samples.jsonl"), line + "\n", cancellationToken);
                    var key = $"{name}/{version}";
                    counts[key] = counts.GetValueOrDefault(key) + 1;
                    var reason = sample.GetProperty("reason").GetString() ?? "?";
                    reasons[reason] = reasons.GetValueOrDefault(reason) + 1;
                    total++;
                }

                after = page.RootElement.GetProperty("next").GetInt64();
                last = Math.Max(last, after);
                if (!page.RootElement.GetProperty("more").GetBoolean())
                {
                    break;
                }
            }

            var deleted = 0;
            if (parse.GetValue(purge) && total > 0)
            {
                var path = $"/v1/capture?upTo={last.ToString(CultureInfo.InvariantCulture)}" + (only is null ? string.Empty : "&model=" + Uri.EscapeDataString(only));
                var (status, body) = await client.SendAsync(HttpMethod.Delete, path, null, cancellationToken);
                if (status != 200)
                {
                    throw new IOException($"the samples were written, but the agent refused to delete them ({status}): {AgentApiClient.ErrorText(body)}");
                }

                using var answer = JsonDocument.Parse(body);
                deleted = answer.RootElement.GetProperty("deleted").GetInt32();
            }

            var manifest = new { exported = DateTimeOffset.UtcNow, samples = total, lastId = last, purged = deleted, models = counts, reasons };
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "manifest.json"), JsonSerializer.Serialize(manifest, Core.CoreJson.Indented) + "\n", cancellationToken);
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(manifest);
                return ExitCodes.Ok;
            }

            if (total == 0)
            {
                Console.WriteLine($"no captured samples on this device{(only is null ? string.Empty : $" for '{only}'")} (is Capture:Enabled set?); wrote {Path.Combine(dir.FullName, "manifest.json")}");
                return ExitCodes.Ok;
            }

            var table = new Table().AddColumns("model/version", "samples");
            foreach (var (key, count) in counts)
            {
                table.AddRow(Markup.Escape(key), count.ToString(CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
            Console.WriteLine($"{total} samples written to {dir.FullName}{(deleted > 0 ? $"; {deleted} deleted from the device" : string.Empty)}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>A model or version as a folder name: anything but letters, digits, '.', '_' and '-' becomes '_'.</summary>
    private static string Safe(string name) =>
        string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_')) is { Length: > 0 } safe && safe != "." && safe != ".." ? safe : "_";
}
