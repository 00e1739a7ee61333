using System.CommandLine;
using System.Security.Cryptography;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgectl support-bundle</c>: the local agent's support bundle (<c>GET /v1/support-bundle</c>) written to a file.</summary>
internal static class SupportBundleCommand
{
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

            var path = Write(parse.GetValue(output), name, body);
            Console.WriteLine($"wrote {path} ({body.Length} bytes, sha256 {Convert.ToHexStringLower(SHA256.HashData(body))})");
            return ExitCodes.Ok;
        }));
        return command;
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
