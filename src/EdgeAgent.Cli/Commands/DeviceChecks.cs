using System.Diagnostics;
using EdgeAgent.Agent;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Bundles;
using Microsoft.Extensions.Configuration;

namespace EdgeAgent.Cli.Commands;

/// <summary>
/// The checks of <c>edgectl check</c> that look at the device itself rather than the agent's status: the config file,
/// the state directory and its disk, the trust root, the systemd unit and the clock. Each is ok, warn or fail with a
/// one-line hint on how to fix it.
/// </summary>
internal static class DeviceChecks
{
    public const string DefaultConfig = "/etc/edge-agent/edge-agent.json";

    /// <summary>Before this date the device's clock is certainly wrong (manifest, root and certificate expiry misjudged).</summary>
    public static readonly DateTimeOffset EarliestSaneTime = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Reads the agent's config; a missing default file is a warning, a missing named file or a bad one a failure.</summary>
    public static (Check Check, IConfiguration? Configuration) Config(string path, bool named)
    {
        if (!File.Exists(path) && !named)
        {
            return (new("config", "warn", $"no config at {path}; state directory from the agent's status, trust not checked (pass --config PATH)"), null);
        }

        if (!AgentProgram.LoadConfiguration(path, out var configuration, out var error))
        {
            return (new("config", "fail", $"{error}; the agent will not start with it (exit 2): fix the file"), null);
        }

        return (new("config", "ok", path), configuration);
    }

    /// <summary>Writes and deletes a file in the state directory, as the agent does.</summary>
    public static Check StateDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return new("state directory", "fail", $"{directory} does not exist; the unit's StateDirectory= creates it (or: install -d -o edge-agent -g edge-agent {directory})");
        }

        var probe = Path.Combine(directory, $".edgectl-check-{Environment.ProcessId}");
        try
        {
            File.WriteAllText(probe, "check");
            File.Delete(probe);
            return new("state directory", "ok", $"{directory} is writable");
        }
        catch (UnauthorizedAccessException) when (!Environment.IsPrivilegedProcess)
        {
            // Owned by the agent's user (0750): an operator in its group can read but not write.
            return new("state directory", "warn", $"{directory} is not writable by {Environment.UserName}; run edgectl check as root (or the edge-agent user) to test it");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new("state directory", "fail", $"{directory} is not writable ({ex.Message}); check the file system (read-only? full?) and chown -R edge-agent:edge-agent {directory}");
        }
    }

    /// <summary>Free space and the agent's use of it against <c>Agent:DiskBudgetMegabytes</c> and <c>Agent:DiskReserveMegabytes</c>.</summary>
    public static Check Disk(string directory, long budgetMegabytes, long reserveMegabytes)
    {
        if (!Directory.Exists(directory))
        {
            return new("disk", "warn", $"{directory} does not exist; free space not checked");
        }

        var free = new DriveInfo(Path.GetFullPath(directory)).AvailableFreeSpace / 1048576.0;
        var used = SizeOf(directory) / 1048576.0;
        var usage = budgetMegabytes > 0 ? $"the agent uses {used:0.#} MiB of its {budgetMegabytes} MiB budget" : $"the agent uses {used:0.#} MiB (no Agent:DiskBudgetMegabytes)";
        if (budgetMegabytes > 0 && used > budgetMegabytes)
        {
            return new("disk", "fail", $"{usage}; new bundles are refused (disk-budget): raise Agent:DiskBudgetMegabytes or lower Agent:KeepPreviousVersions");
        }

        if (free < reserveMegabytes)
        {
            return new("disk", "fail", $"{free:0.#} MiB free, below the {reserveMegabytes} MiB reserve (Agent:DiskReserveMegabytes); {usage}; free space on that file system");
        }

        if (budgetMegabytes > 0 && free < reserveMegabytes + (budgetMegabytes - used))
        {
            return new("disk", "warn", $"{free:0.#} MiB free: less than the rest of the budget plus the reserve; {usage}; bundles may be refused (insufficient-disk) before the budget is reached");
        }

        return new("disk", "ok", $"{free:0.#} MiB free; {usage}");
    }

    /// <summary>The configured trust root: present, correctly self-signed, not expired (a warning within 30 days of expiry).</summary>
    public static Check Trust(IConfiguration configuration, DateTimeOffset now)
    {
        var trust = new TrustOptions();
        configuration.GetSection(TrustOptions.Section).Bind(trust);
        if (string.IsNullOrEmpty(trust.Root))
        {
            var missing = trust.PublicKeys.Where(k => !File.Exists(k) && !Directory.Exists(k)).ToList();
            return missing.Count > 0
                ? new("trust", "fail", $"Trust:PublicKeys names {string.Join(", ", missing)}, which does not exist; install the release public key there")
                : new("trust", "ok", $"{trust.PublicKeys.Count} public key file(s), no Trust:Root (no expiry to check)");
        }

        if (!File.Exists(trust.Root))
        {
            return new("trust root", "fail", $"Trust:Root {trust.Root} does not exist; install the fleet's root.json there (edgectl keys rotate makes one)");
        }

        try
        {
            var root = TrustRoot.VerifyInitial(File.ReadAllBytes(trust.Root), now);
            var detail = $"{trust.Root}: root v{root.Version}, {root.Threshold} of {root.Keys.Count} keys";
            if (root.Expires is not { } expires)
            {
                return new("trust root", "ok", $"{detail}, never expires");
            }

            var days = (expires - now).TotalDays;
            return days < 30
                ? new("trust root", "warn", $"{detail}, expires in {days:0.#} days ({expires:yyyy-MM-dd}); publish a rotated root (edgectl keys rotate) before then")
                : new("trust root", "ok", $"{detail}, expires {expires:yyyy-MM-dd}");
        }
        catch (BundleRejectedException ex)
        {
            // The agent may hold a newer root received over MQTT; the file is what it starts from after a state loss.
            return new("trust root", "fail", $"{trust.Root}: {ex.Describe()}; install a valid root.json (edgectl keys rotate --expires-days N)");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new("trust root", "fail", $"cannot read {trust.Root}: {ex.Message}");
        }
    }

    /// <summary><c>systemctl is-active edge-agent</c> where systemd is PID 1; otherwise an ok saying the agent is not under systemd.</summary>
    public static Check SystemdUnit(string unit)
    {
        var init = ReadInit();
        if (init != "systemd" || FindOnPath("systemctl") is not { } systemctl)
        {
            return new("systemd unit", "ok", $"not under systemd (PID 1 is {init ?? "unknown"}); nothing to check");
        }

        var (code, output) = Run(systemctl, "is-active", unit);
        return output switch
        {
            "active" => new("systemd unit", "ok", $"{unit} is active"),
            "activating" or "reloading" or "deactivating" => new("systemd unit", "warn", $"{unit} is {output}; see edgectl logs"),
            _ => new("systemd unit", "fail", $"{unit} is {(output.Length > 0 ? output : "unknown (exit " + code + ")")}: systemctl status {unit}; edgectl logs -n 50"),
        };
    }

    /// <summary>The system clock is not before <see cref="EarliestSaneTime"/>.</summary>
    public static Check Clock(DateTimeOffset now) =>
        now < EarliestSaneTime
            ? new("clock", "fail", $"the system time {now:yyyy-MM-dd HH:mm} UTC is before {EarliestSaneTime:yyyy-MM-dd}: expiry checks of manifests, roots and certificates are wrong; enable time sync (timedatectl set-ntp true) or set the clock")
            : new("clock", "ok", $"{now:yyyy-MM-dd HH:mm:ss} UTC");

    internal static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string? ReadInit()
    {
        try
        {
            return File.ReadAllText("/proc/1/comm").Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit(10_000);
        return (process.HasExited ? process.ExitCode : -1, output);
    }

    private static long SizeOf(string directory)
    {
        long total = 0;
        try
        {
            foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }))
            {
                total += file.Length;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Counted what could be read.
        }

        return total;
    }
}

internal sealed record Check(string Name, string Status, string Detail);
