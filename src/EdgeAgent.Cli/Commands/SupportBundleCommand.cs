using System.CommandLine;
using System.Security.Cryptography;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgectl support-bundle</c>: the local agent's support bundle (<c>GET /v1/support-bundle</c>) written to a file.</summary>
internal static class SupportBundleCommand
{
    private static readonly string[] JournalctlPaths = ["/usr/bin/journalctl", "/bin/journalctl"];

    public static Command Create()
    {
        var output = new Option<string?>("--out") { Description = "File to write (default: the agent's name for it, support-bundle-DEVICE-TIME.tar.gz, in the current folder)" };
        var socket = CommonOptions.Socket();
        var command = new Command("support-bundle", "Write the local agent's support bundle (.tar.gz: status, health, redacted config, recent logs, state files, versions) to a file") { output, socket };
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            using var client = new AgentApiClient(parse.GetValue(socket)!, TimeSpan.FromMinutes(2));
            var (status, body, name) = await client.GetBytesAsync("/v1/support-bundle", cancellationToken);
            if (status != 200)
            {
                return CliRunner.Fail(ExitCodes.Error, $"the agent answered {status}: {AgentApiClient.ErrorText(System.Text.Encoding.UTF8.GetString(body))}");
            }

            // What only the device side can add: the checks (as edgectl check --json) and the journal, when there is one.
            var (checks, _) = await CheckCommand.RunAsync(parse.GetValue(socket)!, Environment.GetEnvironmentVariable("EDGEAGENT_CONFIG"), "edge-agent", cancellationToken);
            var extra = new Dictionary<string, byte[]>(StringComparer.Ordinal)
            {
                ["check.json"] = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new { ok = checks.All(c => c.Status != "fail"), checks }, Core.CoreJson.Indented),
            };
            if (await JournalAsync(cancellationToken) is { } journal)
            {
                extra["journal.txt"] = journal;
            }

            body = AddEntries(body, extra);
            var path = Write(parse.GetValue(output), name, body);
            Console.WriteLine($"wrote {path} ({body.Length} bytes, sha256 {Convert.ToHexStringLower(SHA256.HashData(body))})");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The agent unit's last 2000 journal lines; null where there is no journalctl.</summary>
    private static async Task<byte[]?> JournalAsync(CancellationToken cancellationToken)
    {
        var journalctl = JournalctlPaths.FirstOrDefault(File.Exists);
        if (journalctl is null)
        {
            return null;
        }

        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(journalctl, ["-u", "edge-agent", "-n", "2000", "--no-pager", "-o", "short-iso"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
            return System.Text.Encoding.UTF8.GetBytes(await output + (process.ExitCode == 0 ? string.Empty : $"\n(journalctl exit {process.ExitCode}: {(await error).Trim()})\n"));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill();
            return "(journalctl did not answer within 20 s)\n"u8.ToArray();
        }
    }

    /// <summary>The bundle with <paramref name="extra"/> files added to its one folder.</summary>
    internal static byte[] AddEntries(byte[] bundle, IReadOnlyDictionary<string, byte[]> extra)
    {
        using var output = new MemoryStream();
        using (var gzipOut = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        using (var writer = new System.Formats.Tar.TarWriter(gzipOut, System.Formats.Tar.TarEntryFormat.Pax, leaveOpen: true))
        {
            string? folder = null;
            using (var gzipIn = new System.IO.Compression.GZipStream(new MemoryStream(bundle), System.IO.Compression.CompressionMode.Decompress))
            using (var reader = new System.Formats.Tar.TarReader(gzipIn))
            {
                while (reader.GetNextEntry(copyData: true) is { } entry)
                {
                    folder ??= entry.Name.Contains('/', StringComparison.Ordinal) ? entry.Name[..entry.Name.IndexOf('/', StringComparison.Ordinal)] : null;
                    writer.WriteEntry(entry);
                }
            }

            foreach (var (file, content) in extra)
            {
                var entry = new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, folder is null ? file : $"{folder}/{file}")
                {
                    DataStream = new MemoryStream(content),
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead,
                    ModificationTime = DateTimeOffset.UtcNow,
                };
                writer.WriteEntry(entry);
            }
        }

        return output.ToArray();
    }

    /// <summary>Writes a bundle to <paramref name="output"/>, or to <paramref name="suggested"/> (its file name only) in the current folder.</summary>
    internal static string Write(string? output, string? suggested, byte[] content)
    {
        var path = output ?? Path.GetFileName(string.IsNullOrWhiteSpace(suggested) ? "support-bundle.tar.gz" : suggested);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllBytes(path, content);
        return path;
    }
}
