using System.Security.Cryptography;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Mqtt;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Options;

/// <summary>Validates every section at start-up; each failure names the config key, e.g. <c>Agent:DeviceId is required</c>.</summary>
internal sealed class OptionsValidators :
    IValidateOptions<AgentOptions>, IValidateOptions<MqttOptions>, IValidateOptions<TrustOptions>, IValidateOptions<TelemetryOptions>,
    IValidateOptions<ServingOptions>, IValidateOptions<GpioOptions>, IValidateOptions<CaptureOptions>,
    IValidateOptions<DriftOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DeviceId))
        {
            errors.Add("Agent:DeviceId is required");
        }
        else if (!DeviceIds.IsValid(options.DeviceId))
        {
            errors.Add($"Agent:DeviceId '{options.DeviceId}' may hold only letters, digits, '.', '_' and '-' (no MQTT wildcards or '/')");
        }

        if (string.IsNullOrWhiteSpace(options.StateDirectory))
        {
            errors.Add("Agent:StateDirectory is required");
        }

        if (string.IsNullOrWhiteSpace(options.ApiSocket))
        {
            errors.Add("Agent:ApiSocket is required");
        }
        else if (System.Text.Encoding.UTF8.GetByteCount(options.ApiSocket) > AgentHost.MaxUnixSocketPath)
        {
            errors.Add($"Agent:ApiSocket is {System.Text.Encoding.UTF8.GetByteCount(options.ApiSocket)} bytes; a unix socket path may have at most {AgentHost.MaxUnixSocketPath}");
        }

        if (options.ApiListen is { Length: > 0 } listen)
        {
            if (!System.Net.IPEndPoint.TryParse(listen, out var endpoint) || endpoint.Port == 0)
            {
                errors.Add($"Agent:ApiListen '{listen}' is not an address:port such as 127.0.0.1:8080");
            }
            else if (!System.Net.IPAddress.IsLoopback(endpoint.Address))
            {
                errors.Add($"Agent:ApiListen '{listen}' must be a loopback address: the local API has no authentication");
            }
        }

        if (options.FetchTimeoutSeconds is <= 0 or > 3600)
        {
            errors.Add("Agent:FetchTimeoutSeconds must be between 1 and 3600");
        }

        if (options.DiskReserveMegabytes < 0)
        {
            errors.Add("Agent:DiskReserveMegabytes must not be negative");
        }

        if (options.MaxRequestBytes < 1024)
        {
            errors.Add("Agent:MaxRequestBytes must be at least 1024");
        }

        if (options.SupportBundleMaxBytes is < 1024 or > 64 * 1024 * 1024)
        {
            errors.Add("Agent:SupportBundleMaxBytes must be between 1024 and 67108864");
        }

        if (options.MaxAttempts <= 0)
        {
            errors.Add("Agent:MaxAttempts must be positive");
        }

        if (options.RetryIntervalSeconds is <= 0 or > 86400)
        {
            errors.Add("Agent:RetryIntervalSeconds must be between 1 and 86400");
        }

        if (options.WatchdogSeconds is <= 0 or > 86400)
        {
            errors.Add("Agent:WatchdogSeconds must be between 1 and 86400");
        }

        foreach (var group in options.Groups)
        {
            if (!DeviceIds.IsValid(group))
            {
                errors.Add($"Agent:Groups entry '{group}' may hold only letters, digits, '.', '_' and '-' (no MQTT wildcards or '/')");
            }
        }

        if (options.KeepPreviousVersions is < 0 or > 20)
        {
            errors.Add("Agent:KeepPreviousVersions must be between 0 and 20");
        }

        if (options.DiskBudgetMegabytes < 0 || options.MaxFetchBytesPerSecond < 0)
        {
            errors.Add("Agent:DiskBudgetMegabytes and Agent:MaxFetchBytesPerSecond must not be negative");
        }

        if (options.MaintenanceWindow is { Length: > 0 } window && !Core.Deployment.MaintenanceWindow.TryParse(window, out _))
        {
            errors.Add($"Agent:MaintenanceWindow '{window}' is not a UTC window such as 02:00-04:00");
        }

        if (options.ProbationSeconds is < 0 or > 7 * 86400 || options.ProbationRequests < 0 || options.ProbationMinRequests < 1)
        {
            errors.Add("Agent:ProbationSeconds must be between 0 and 604800, Agent:ProbationRequests not negative, Agent:ProbationMinRequests at least 1");
        }

        if (!double.IsFinite(options.ProbationMaxErrorRateIncrease) || options.ProbationMaxErrorRateIncrease is < 0 or > 1
            || !double.IsFinite(options.ProbationMaxLatencyRatio) || options.ProbationMaxLatencyRatio < 1)
        {
            errors.Add("Agent:ProbationMaxErrorRateIncrease must be between 0 and 1 and Agent:ProbationMaxLatencyRatio at least 1");
        }

        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, MqttOptions options)
    {
        var errors = new List<string>();
        if (!BrokerAddress.TryParse(options.Url, out _, out var error))
        {
            errors.Add($"Mqtt:Url {error}");
        }

        if (string.IsNullOrWhiteSpace(options.TopicPrefix) || options.TopicPrefix.Contains('#', StringComparison.Ordinal) || options.TopicPrefix.Contains('+', StringComparison.Ordinal))
        {
            errors.Add("Mqtt:TopicPrefix must be a topic without wildcards");
        }

        if (!string.IsNullOrEmpty(options.PasswordFile))
        {
            if (!string.IsNullOrEmpty(options.Password))
            {
                errors.Add("Mqtt:Password and Mqtt:PasswordFile are alternatives: set one of them");
            }
            else if (!File.Exists(options.PasswordFile))
            {
                errors.Add($"Mqtt:PasswordFile file not found: {options.PasswordFile}");
            }
        }

        ValidateTls(options, errors);
        if (options.KeepAliveSeconds is < 5 or > 3600)
        {
            errors.Add("Mqtt:KeepAliveSeconds must be between 5 and 3600");
        }

        if (options.MaxReconnectDelaySeconds <= 0)
        {
            errors.Add("Mqtt:MaxReconnectDelaySeconds must be positive");
        }

        return Result(errors);
    }

    /// <summary>Mqtt:CaFile, Mqtt:ClientCertificateFile and Mqtt:ClientKeyFile: readable PEM files that load together, only with mqtts://.</summary>
    private static void ValidateTls(MqttOptions options, List<string> errors)
    {
        var files = new (string Key, string? Path)[] { ("Mqtt:CaFile", options.CaFile), ("Mqtt:ClientCertificateFile", options.ClientCertificateFile), ("Mqtt:ClientKeyFile", options.ClientKeyFile) };
        if (files.All(f => string.IsNullOrEmpty(f.Path)))
        {
            return;
        }

        if (BrokerAddress.TryParse(options.Url, out var broker, out _) && !broker!.UseTls)
        {
            errors.Add($"Mqtt:CaFile, Mqtt:ClientCertificateFile and Mqtt:ClientKeyFile need a TLS broker URL (mqtts://), not {broker}");
            return;
        }

        if (!string.IsNullOrEmpty(options.ClientKeyFile) && string.IsNullOrEmpty(options.ClientCertificateFile))
        {
            errors.Add("Mqtt:ClientKeyFile is set without Mqtt:ClientCertificateFile");
            return;
        }

        var texts = new string?[files.Length];
        for (var i = 0; i < files.Length; i++)
        {
            if (string.IsNullOrEmpty(files[i].Path))
            {
                continue;
            }

            try
            {
                texts[i] = File.ReadAllText(files[i].Path!);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                errors.Add(ex is FileNotFoundException or DirectoryNotFoundException
                    ? $"{files[i].Key} file not found: {files[i].Path}"
                    : $"{files[i].Key} ({files[i].Path}) cannot be read: {ex.Message}");
            }
        }

        if (errors.Count > 0)
        {
            return;
        }

        if (texts[0] is { } ca)
        {
            try
            {
                using var roots = new BrokerTlsRoots(BrokerTls.ParseCaBundle(ca));
            }
            catch (FormatException ex)
            {
                errors.Add($"Mqtt:CaFile ({options.CaFile}) {ex.Message}");
                return;
            }
        }

        try
        {
            using var tls = BrokerTls.FromPem(null, texts[1], texts[2]);
        }
        catch (FormatException ex)
        {
            errors.Add($"Mqtt:ClientCertificateFile ({options.ClientCertificateFile}): {ex.Message}");
        }
    }

    /// <summary>Disposes the certificates of a parsed CA bundle.</summary>
    private readonly struct BrokerTlsRoots(System.Security.Cryptography.X509Certificates.X509Certificate2Collection roots) : IDisposable
    {
        public void Dispose()
        {
            foreach (var root in roots)
            {
                root.Dispose();
            }
        }
    }

    public ValidateOptionsResult Validate(string? name, TrustOptions options)
    {
        var errors = new List<string>();
        if (!string.IsNullOrEmpty(options.Root))
        {
            if (options.PublicKeys.Count > 0)
            {
                errors.Add("Trust:Root and Trust:PublicKeys are alternatives: set one of them");
            }
            else if (!File.Exists(options.Root))
            {
                errors.Add($"Trust:Root file not found: {options.Root}");
            }
            else
            {
                try
                {
                    TrustRoot.VerifyInitial(File.ReadAllBytes(options.Root), DateTimeOffset.UtcNow);
                }
                catch (BundleRejectedException ex)
                {
                    errors.Add($"Trust:Root ({options.Root}) is refused: {ex.Describe()}");
                }
            }

            return Result(errors);
        }

        if (options.PublicKeys.Count == 0)
        {
            errors.Add("Trust:PublicKeys needs at least one public key file (or Trust:Root a root.json)");
        }

        using var keys = new TrustedKeys();
        for (var i = 0; i < options.PublicKeys.Count; i++)
        {
            var path = options.PublicKeys[i];
            if (!File.Exists(path))
            {
                errors.Add($"Trust:PublicKeys:{i} file not found: {path}");
                continue;
            }

            try
            {
                keys.AddPem(File.ReadAllText(path));
            }
            catch (CryptographicException ex)
            {
                errors.Add($"Trust:PublicKeys:{i} ({path}) is {ex.Message}");
            }
        }

        if (options.Threshold < 1)
        {
            errors.Add("Trust:Threshold must be at least 1");
        }
        else if (errors.Count == 0 && options.Threshold > keys.Count)
        {
            errors.Add($"Trust:Threshold is {options.Threshold} but Trust:PublicKeys holds {keys.Count} distinct key(s)");
        }

        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        var errors = new List<string>();
        if (options.WindowSeconds is < 0.1 or > 3600)
        {
            errors.Add("Telemetry:WindowSeconds must be between 0.1 and 3600");
        }

        if (options.HealthIntervalSeconds is < 0.1 or > 3600)
        {
            errors.Add("Telemetry:HealthIntervalSeconds must be between 0.1 and 3600");
        }

        if (options.OutboxMaxRecords < 100)
        {
            errors.Add("Telemetry:OutboxMaxRecords must be at least 100");
        }

        if (options.OutboxMaxBytes is < 4096 or > 1L << 40)
        {
            errors.Add("Telemetry:OutboxMaxBytes must be between 4096 and 1099511627776");
        }

        if (options.OutboxBatchMaxBytes is < 1024 or > (int)Mqtt.MqttSession.MaximumPacketSize)
        {
            errors.Add("Telemetry:OutboxBatchMaxBytes must be between 1024 and 4194304");
        }

        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, ServingOptions options)
    {
        var errors = new List<string>();
        if (options.IntraOpThreads is < 0 or > 256 || options.InterOpThreads is < 0 or > 256)
        {
            errors.Add("Serving:IntraOpThreads and Serving:InterOpThreads must be between 0 (ONNX Runtime's default) and 256");
        }

        if (!(options.LatencySloMilliseconds >= 0 && options.LatencySloMilliseconds <= 600_000))
        {
            errors.Add("Serving:LatencySloMilliseconds must be between 0 (no budget) and 600000");
        }

        if (options.MaxConcurrentRequests is < 0 or > 1024 || options.MaxQueuedRequests is < 0 or > 100_000 || options.QueueTimeoutMilliseconds is < 0 or > 600_000)
        {
            errors.Add("Serving:MaxConcurrentRequests must be between 0 (one per core) and 1024, Serving:MaxQueuedRequests between 0 and 100000, Serving:QueueTimeoutMilliseconds between 0 and 600000");
        }

        if (!ServingOptions.KnownOptimizationLevels.Contains(options.GraphOptimizationLevel, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"Serving:GraphOptimizationLevel '{options.GraphOptimizationLevel}' is not one of {string.Join(", ", ServingOptions.KnownOptimizationLevels)}");
        }

        foreach (var provider in options.ExecutionProviders)
        {
            if (!ServingOptions.KnownProviders.Contains(provider, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"Serving:ExecutionProviders entry '{provider}' is not one of {string.Join(", ", ServingOptions.KnownProviders)}");
            }
        }

        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, GpioOptions options)
    {
        var errors = new List<string>();
        var used = new Dictionary<int, string>();
        void Claim(int pin, string key)
        {
            if (pin < 0)
            {
                errors.Add($"{key} must be a pin number (0 or more)");
            }
            else if (!used.TryAdd(pin, key))
            {
                errors.Add($"{key} uses pin {pin}, which {used[pin]} already uses");
            }
        }

        if (options.StatusLedPin is { } led)
        {
            Claim(led, "Gpio:StatusLedPin");
        }

        for (var i = 0; i < options.Rules.Count; i++)
        {
            var rule = options.Rules[i];
            var key = $"Gpio:Rules:{i}";
            if (string.IsNullOrWhiteSpace(rule.Model) || string.IsNullOrWhiteSpace(rule.Output))
            {
                errors.Add($"{key} needs Model and Output");
            }

            if (rule.Index < 0)
            {
                errors.Add($"{key}:Index must not be negative");
            }

            if (rule.Above.HasValue == rule.EqualTo.HasValue || (rule.Above is { } above && !double.IsFinite(above)))
            {
                errors.Add($"{key} needs exactly one of Above (a finite threshold) and EqualTo (a label)");
            }

            if (!IsLevel(rule.Level))
            {
                errors.Add($"{key}:Level '{rule.Level}' must be High or Low");
            }

            if (!double.IsFinite(rule.HoldSeconds) || rule.HoldSeconds is <= 0 or > 86400)
            {
                errors.Add($"{key}:HoldSeconds must be above 0 and at most 86400");
            }

            Claim(rule.Pin, $"{key}:Pin");
        }

        for (var i = 0; i < options.Inputs.Count; i++)
        {
            var input = options.Inputs[i];
            var key = $"Gpio:Inputs:{i}";
            if (input.Action == GpioInput.Infer)
            {
                if (string.IsNullOrWhiteSpace(input.Model) || string.IsNullOrWhiteSpace(input.Request))
                {
                    errors.Add($"{key} with Action infer needs Model and Request");
                }
                else if (!File.Exists(input.Request))
                {
                    errors.Add($"{key}:Request file not found: {input.Request}");
                }
            }
            else if (input.Action != GpioInput.ReportNow)
            {
                errors.Add($"{key}:Action '{input.Action}' must be {GpioInput.ReportNow} or {GpioInput.Infer}");
            }

            if (input.DebounceMilliseconds is < 0 or > 60_000)
            {
                errors.Add($"{key}:DebounceMilliseconds must be between 0 and 60000");
            }

            Claim(input.Pin, $"{key}:Pin");
        }

        return Result(errors);
    }

    internal static bool IsLevel(string level) => level.Equals("High", StringComparison.OrdinalIgnoreCase) || level.Equals("Low", StringComparison.OrdinalIgnoreCase);

    private static ValidateOptionsResult Result(List<string> errors) =>
        errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);

    public ValidateOptionsResult Validate(string? name, CaptureOptions options)
    {
        var errors = new List<string>();
        if (options.MaxMegabytes < 1)
        {
            errors.Add("Capture:MaxMegabytes must be at least 1");
        }

        if (options.SamplesPerMinute < 1)
        {
            errors.Add("Capture:SamplesPerMinute must be at least 1");
        }

        if (options.MaxSampleKilobytes < 1)
        {
            errors.Add("Capture:MaxSampleKilobytes must be at least 1");
        }

        for (var i = 0; i < options.LowConfidence.Count; i++)
        {
            var rule = options.LowConfidence[i];
            if (string.IsNullOrWhiteSpace(rule.Model) || string.IsNullOrWhiteSpace(rule.Output))
            {
                errors.Add($"Capture:LowConfidence:{i} needs Model and Output");
            }

            if (!double.IsFinite(rule.Below))
            {
                errors.Add($"Capture:LowConfidence:{i}:Below must be a number");
            }
        }

        foreach (var entry in options.Redact)
        {
            var bracket = entry.IndexOf('[', StringComparison.Ordinal);
            var valid = entry.Length > 0 && (bracket < 0
                ? !entry.Contains(']', StringComparison.Ordinal)
                : bracket > 0 && entry.EndsWith(']') && int.TryParse(entry[(bracket + 1)..^1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _));
            if (!valid)
            {
                errors.Add($"Capture:Redact entry '{entry}' must be an input name (e.g. \"features\") or an input name and element index (e.g. \"features[3]\")");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public ValidateOptionsResult Validate(string? name, DriftOptions options)
    {
        var errors = new List<string>();
        if (!(options.WindowSeconds >= 1 && options.WindowSeconds <= 86400))
        {
            errors.Add("Drift:WindowSeconds must be between 1 and 86400");
        }

        if (options.MinSamples < 1)
        {
            errors.Add("Drift:MinSamples must be at least 1");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
