using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeAgent.Agent.Json;
using EdgeAgent.Agent.Options;
using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Diagnostics;

/// <summary>
/// Builds a support bundle (like <c>iotedge support-bundle</c>): a <c>.tar.gz</c> with one folder
/// <c>support-bundle-{device}-{yyyyMMddTHHmmssZ}/</c> holding what someone helping with this device needs, and no
/// secret: the <c>/v1/status</c> document, a health snapshot (resources, models, outbox, MQTT), the configuration with
/// secrets redacted (<see cref="ConfigRedaction"/>; files named in it are never read), the recent log lines
/// (<see cref="RecentLogLines"/>), the agent's JSON state files (deployments, desired state, accepted versions, trust
/// root) and a listing of the state folder, and versions (agent, .NET, OS, ONNX Runtime, MQTTnet).
/// </summary>
public sealed class SupportBundleBuilder
{
    /// <summary>Largest state file copied into a bundle; a bigger one is listed, not copied.</summary>
    public const int MaxStateFileBytes = 1024 * 1024;

    /// <summary>Most entries of the state folder listed.</summary>
    public const int MaxListedFiles = 2000;

    private readonly IServiceProvider _services;
    private readonly IConfiguration _configuration;
    private readonly RecentLogLines _logs;
    private readonly HealthReporter _health;
    private readonly AgentOptions _agent;
    private readonly TimeProvider _time;
    private readonly ILogger<SupportBundleBuilder> _logger;

    public SupportBundleBuilder(IServiceProvider services, IConfiguration configuration, RecentLogLines logs, HealthReporter health, IOptions<AgentOptions> agent, TimeProvider time, ILogger<SupportBundleBuilder> logger)
    {
        ArgumentNullException.ThrowIfNull(agent);
        _services = services;
        _configuration = configuration;
        _logs = logs;
        _health = health;
        _agent = agent.Value;
        _time = time;
        _logger = logger;
    }

    public SupportBundle Build()
    {
        var now = _time.GetUtcNow();
        var folder = $"support-bundle-{_agent.DeviceId}-{now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}";
        var entries = new List<string>();
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            void Add(string name, ReadOnlySpan<byte> content)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, $"{folder}/{name}")
                {
                    ModificationTime = now,
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                    DataStream = new MemoryStream(content.ToArray()),
                };
                tar.WriteEntry(entry);
                entries.Add(name);
            }

            void AddJson<T>(string name, T value) => Add(name, JsonSerializer.SerializeToUtf8Bytes(value, AgentJson.Indented.Info<T>()));

            AddJson("status.json", Api.LocalApi.Status(_services));
            AddJson("health.json", _health.Snapshot());
            AddJson("config.json", ConfigRedaction.Redact(_configuration));
            AddJson("versions.json", Versions());
            Add("logs.txt", Encoding.UTF8.GetBytes(LogText()));
            var (listing, stateFiles) = StateFolder();
            Add("state-files.txt", Encoding.UTF8.GetBytes(listing));
            foreach (var file in stateFiles)
            {
                try
                {
                    Add($"state/{Path.GetFileName(file)}", File.ReadAllBytes(file));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Removed or replaced meanwhile: the listing still names it.
                }
            }
        }

        var content = buffer.ToArray();
        var bundle = new SupportBundle(folder + ".tar.gz", content, Convert.ToHexStringLower(SHA256.HashData(content)), entries);
        Log.SupportBundleBuilt(_logger, bundle.Content.Length, entries.Count);
        return bundle;
    }

    private string LogText()
    {
        var lines = _logs.Snapshot();
        var text = new StringBuilder();
        if (_logs.Written > lines.Count)
        {
            text.Append(CultureInfo.InvariantCulture, $"(the last {lines.Count} of {_logs.Written} lines since start)\n");
        }

        foreach (var line in lines)
        {
            text.Append(line).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>A listing of the state folder (path, bytes, last change), and its top-level JSON files to copy (the agent's state documents).</summary>
    private (string Listing, List<string> JsonFiles) StateFolder()
    {
        var root = Path.GetFullPath(_agent.StateDirectory);
        var listing = new StringBuilder();
        var json = new List<string>();
        if (!Directory.Exists(root))
        {
            return ($"(no state folder at {root})\n", json);
        }

        // A file the configuration names (a password file, a key) is never copied, wherever it lies.
        var named = ConfiguredPaths();
        var listed = 0;
        try
        {
            foreach (var file in Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint }))
            {
                if (listed++ == MaxListedFiles)
                {
                    listing.Append(CultureInfo.InvariantCulture, $"(more than {MaxListedFiles} files; the rest are not listed)\n");
                    break;
                }

                var info = new FileInfo(file);
                listing.Append(CultureInfo.InvariantCulture, $"{Path.GetRelativePath(root, file)}\t{info.Length}\t{info.LastWriteTimeUtc:yyyy-MM-ddTHH:mm:ssZ}\n");
                if (Path.GetDirectoryName(file) == root && file.EndsWith(".json", StringComparison.Ordinal) && info.Length <= MaxStateFileBytes && !named.Contains(file))
                {
                    json.Add(file);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            listing.Append(CultureInfo.InvariantCulture, $"(listing stopped: {ex.Message})\n");
        }

        json.Sort(StringComparer.Ordinal);
        return (listing.ToString(), json);
    }

    private HashSet<string> ConfiguredPaths()
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, value) in _configuration.AsEnumerable())
        {
            if (!string.IsNullOrWhiteSpace(value) && value.IndexOfAny(Path.GetInvalidPathChars()) < 0)
            {
                try
                {
                    paths.Add(Path.GetFullPath(value));
                }
                catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
                {
                    // Not a path.
                }
            }
        }

        return paths;
    }

    private VersionsReport Versions()
    {
        string? onnxRuntime;
        try
        {
            onnxRuntime = Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString();
        }
        catch (Exception ex) when (ex is TypeInitializationException or DllNotFoundException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            onnxRuntime = $"unavailable: {ex.GetBaseException().Message}";
        }

        return new VersionsReport(
            AgentInfo.Version,
            RuntimeInformation.FrameworkDescription,
            RuntimeInformation.OSDescription,
            RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
            _agent.Architecture,
            onnxRuntime,
            typeof(MQTTnet.MqttClientFactory).Assembly.GetName().Version?.ToString(),
            Environment.ProcessId,
            Environment.ProcessorCount,
            _time.GetUtcNow());
    }
}
