using System.CommandLine;
using System.Diagnostics;

namespace EdgeAgent.Cli.Commands;

/// <summary>
/// <c>edgectl logs [-f] [-n N] [--since TIME]</c>: the agent's journal, <c>journalctl -u edge-agent</c> with defaults that
/// suit a device (last 200 lines, ISO timestamps, no pager). Without journalctl (no systemd) it says so and exits 9.
/// </summary>
internal static class LogsCommand
{
    public static Command Create()
    {
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines (Ctrl-C to stop)" };
        var lines = new Option<int>("--lines", "-n")
        {
            Description = "How many recent lines",
            DefaultValueFactory = _ => 200,
        };
        var since = new Option<string?>("--since") { Description = "Only lines since TIME, as journalctl takes it: \"2026-05-01 10:00\", \"-1h\", \"today\"" };
        var unit = new Option<string>("--unit")
        {
            Description = "The agent's systemd unit",
            DefaultValueFactory = _ => "edge-agent",
        };
        var command = new Command("logs", "The agent's log from the systemd journal (journalctl -u edge-agent)") { follow, lines, since, unit };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var count = parse.GetValue(lines);
            if (count < 0)
            {
                return CliRunner.Fail(ExitCodes.Usage, "--lines must be 0 or more");
            }

            if (DeviceChecks.FindOnPath("journalctl") is not { } journalctl)
            {
                return CliRunner.Fail(ExitCodes.NoJournal, "journalctl not found: this device does not run systemd's journal. The agent logs to its stdout/stderr; see wherever its supervisor keeps them (or edgectl support-bundle for its recent lines)");
            }

            List<string> args = ["--unit", parse.GetValue(unit)!, "--no-pager", "--output", "short-iso", "--lines", count.ToString(System.Globalization.CultureInfo.InvariantCulture)];
            if (parse.GetValue(since) is { Length: > 0 } from)
            {
                args.AddRange(["--since", from]);
            }

            if (parse.GetValue(follow))
            {
                args.Add("--follow");
            }

            using var process = Process.Start(new ProcessStartInfo(journalctl, args) { UseShellExecute = false })
                ?? throw new IOException("journalctl did not start");
            try
            {
                await process.WaitForExitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C with --follow: journalctl got the same signal.
                process.Kill();
                return 130;
            }

            return process.ExitCode;
        });
        return command;
    }
}
