using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent;

/// <summary>Command line of <c>edge-agent</c>: <c>edge-agent --config PATH</c>. Config errors print one line and exit 2.</summary>
public static class AgentProgram
{
    public const int ConfigError = 2;
    public const string EnvironmentPrefix = "EDGEAGENT__";

    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Contains("--version"))
        {
            Console.WriteLine($"edge-agent {AgentInfo.Version}");
            return 0;
        }

        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine("usage: edge-agent --config PATH\n\nRuns the EdgeAgent daemon. Settings come from the JSON file at PATH and from\nEDGEAGENT__Section__Key environment variables (see docs/configuration.md).");
            return 0;
        }

        if (!TryParseArguments(args, out var path, out var usageError))
        {
            await Console.Error.WriteLineAsync($"usage error: {usageError} (usage: edge-agent --config PATH)");
            return ConfigError;
        }

        path ??= Environment.GetEnvironmentVariable("EDGEAGENT_CONFIG");
        if (string.IsNullOrEmpty(path))
        {
            await Console.Error.WriteLineAsync("config error: no config file given (usage: edge-agent --config PATH)");
            return ConfigError;
        }

        if (!LoadConfiguration(path, out var configuration, out var error))
        {
            await Console.Error.WriteLineAsync($"config error: {error}");
            return ConfigError;
        }

        WebApplication app;
        try
        {
            app = AgentHost.Build(configuration!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }

        await using (app)
        {
            try
            {
                // Validate every section before anything starts, so a bad key is one line and nothing else.
                ValidateOptions(app.Services);

                // Build every service now, so that a corrupt state file is one line here, not a host failure later.
                _ = app.Services.GetServices<IHostedService>().ToList();
                await app.StartAsync();
            }
            catch (OptionsValidationException ex)
            {
                await Console.Error.WriteLineAsync($"config error: {string.Join("; ", ex.Failures)}");
                return ConfigError;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Whatever stops the start (a corrupt state file, a taken socket, a second instance): one line, exit 1.
                await Console.Error.WriteLineAsync($"error: {(ex is AggregateException a ? a.GetBaseException() : ex).Message}");
                return 1;
            }

            await app.WaitForShutdownAsync();
        }

        return 0;
    }

    /// <summary>Accepts <c>--config PATH</c>, <c>--config=PATH</c> and <c>-c PATH</c>; anything else is a usage error.</summary>
    public static bool TryParseArguments(string[] args, out string? configPath, out string error)
    {
        ArgumentNullException.ThrowIfNull(args);
        configPath = null;
        error = string.Empty;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "--config" or "-c")
            {
                if (i + 1 >= args.Length)
                {
                    error = $"{arg} needs a file";
                    return false;
                }

                configPath = args[++i];
            }
            else if (arg.StartsWith("--config=", StringComparison.Ordinal))
            {
                configPath = arg["--config=".Length..];
            }
            else
            {
                error = $"unknown argument '{arg}'";
                return false;
            }
        }

        return true;
    }

    public static void ValidateOptions(IServiceProvider services)
    {
        var failures = new List<string>();
        Check<Options.AgentOptions>(services, failures);
        Check<Options.MqttOptions>(services, failures);
        Check<Options.TrustOptions>(services, failures);
        Check<Options.TelemetryOptions>(services, failures);
        Check<Options.ServingOptions>(services, failures);
        Check<Options.GpioOptions>(services, failures);
        if (failures.Count > 0)
        {
            throw new OptionsValidationException("config", typeof(object), failures);
        }
    }

    private static void Check<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>(IServiceProvider services, List<string> failures)
        where T : class
    {
        try
        {
            _ = services.GetRequiredService<IOptions<T>>().Value;
        }
        catch (OptionsValidationException ex)
        {
            failures.AddRange(ex.Failures);
        }
        catch (InvalidOperationException ex)
        {
            // The binder could not convert a value, e.g. "WindowSeconds": "abc".
            failures.Add(ex.Message);
        }
    }

    /// <summary>Reads the JSON file and the environment overrides; a missing or malformed file is one line of error.</summary>
    public static bool LoadConfiguration(string path, out IConfiguration? configuration, out string error)
    {
        configuration = null;
        if (!File.Exists(path))
        {
            error = $"file not found: {path}";
            return false;
        }

        try
        {
            configuration = new ConfigurationBuilder()
                .AddJsonFile(Path.GetFullPath(path), optional: false, reloadOnChange: false)
                .AddEnvironmentVariables(EnvironmentPrefix)
                .Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException)
        {
            System.Text.Json.JsonException? json = null;
            for (var inner = ex.InnerException; inner is not null && json is null; inner = inner.InnerException)
            {
                json = inner as System.Text.Json.JsonException;
            }

            var where = json?.LineNumber is { } line ? $" at line {line + 1}" : string.Empty;
            error = $"{path} is not valid JSON{where} ({(json ?? ex.InnerException ?? ex).Message.Split('\n')[0].Trim()})";
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            error = $"cannot read {path} (permission denied)";
            return false;
        }

        error = UnknownKeys(configuration!) ?? string.Empty;
        return error.Length == 0;
    }

    /// <summary>A misspelt section or key is an error, not a silently ignored setting.</summary>
    private static string? UnknownKeys(IConfiguration configuration)
    {
        var sections = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase)
        {
            [Options.AgentOptions.Section] = KeysOf(typeof(Options.AgentOptions)),
            [Options.MqttOptions.Section] = KeysOf(typeof(Options.MqttOptions)),
            [Options.TrustOptions.Section] = KeysOf(typeof(Options.TrustOptions)),
            [Options.TelemetryOptions.Section] = KeysOf(typeof(Options.TelemetryOptions)),
            [Options.ServingOptions.Section] = KeysOf(typeof(Options.ServingOptions)),
            [Options.GpioOptions.Section] = KeysOf(typeof(Options.GpioOptions)),
            [Options.CaptureOptions.Section] = KeysOf(typeof(Options.CaptureOptions)),
            [Options.DriftOptions.Section] = KeysOf(typeof(Options.DriftOptions)),
        };
        foreach (var section in configuration.GetChildren())
        {
            if (section.Key.Equals("Logging", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!sections.TryGetValue(section.Key, out var known))
            {
                return $"unknown section '{section.Key}' (known: {string.Join(", ", sections.Keys)}, Logging)";
            }

            foreach (var key in section.GetChildren())
            {
                if (!known.Contains(key.Key, StringComparer.OrdinalIgnoreCase))
                {
                    return $"unknown key {section.Key}:{key.Key} (known in {section.Key}: {string.Join(", ", known)})";
                }
            }
        }

        // Entries of the Gpio lists: a misspelt rule key (e.g. "Equals" for "EqualTo") is an error too.
        foreach (var (list, known) in new[] { ("Gpio:Rules", KeysOf(typeof(Options.GpioRule))), ("Gpio:Inputs", KeysOf(typeof(Options.GpioInput))), ("Capture:LowConfidence", KeysOf(typeof(Options.CaptureLowConfidence))) })
        {
            foreach (var entry in configuration.GetSection(list).GetChildren())
            {
                var unknown = entry.GetChildren().FirstOrDefault(k => !known.Contains(k.Key, StringComparer.OrdinalIgnoreCase));
                if (unknown is not null)
                {
                    return $"unknown key {list}:{entry.Key}:{unknown.Key} (known: {string.Join(", ", known)})";
                }
            }
        }

        if (configuration.GetSection("Capture:Redact") is { Value: not null } redact)
        {
            return $"Capture:Redact must be a list, e.g. [\"{redact.Value}\"]";
        }

        if (configuration.GetSection("Trust:PublicKeys") is { Value: not null } single)
        {
            return $"Trust:PublicKeys must be a list of files, e.g. [\"{single.Value}\"]";
        }

        if (configuration.GetSection("Serving:ExecutionProviders") is { Value: not null } provider)
        {
            return $"Serving:ExecutionProviders must be a list in order of preference, e.g. [\"{provider.Value}\", \"CPU\"]";
        }

        if (configuration.GetSection("Agent:Groups") is { Value: not null } group)
        {
            return $"Agent:Groups must be a list of group names, e.g. [\"{group.Value}\"]";
        }

        return null;
    }

    /// <summary>
    /// The settings of an options type: its public properties. The annotation makes the trimmer (and native AOT) keep
    /// them for every <c>typeof</c> passed here, so the check sees the same names in a trimmed build as in a JIT one.
    /// </summary>
    private static List<string> KeysOf([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] Type type) =>
        [.. type.GetProperties().Select(p => p.Name)];
}
