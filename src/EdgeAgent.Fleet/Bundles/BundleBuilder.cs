using System.Security.Cryptography;
using System.Text.Json;
using EdgeAgent.Core;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Drift;

namespace EdgeAgent.Fleet.Bundles;

/// <summary>Builds and signs a bundle from an ONNX model: schema from the model, hashes per file and chunk, DSSE envelope, tar.</summary>
public static class BundleBuilder
{
    public sealed record Request
    {
        public required string ModelPath { get; init; }

        public required string Name { get; init; }

        public required string Version { get; init; }

        public required IReadOnlyList<ECDsa> Keys { get; init; }

        public required string OutPath { get; init; }

        public IReadOnlyList<string> Architectures { get; init; } = [];

        public IReadOnlyList<string> DeviceTypes { get; init; } = [];

        public TimeSpan? ValidFor { get; init; }

        public int ChunkSize { get; init; } = ChunkTable.DefaultChunkSize;

        /// <summary>Marks this release as a signed rollback from that (higher) version.</summary>
        public string? RollbackOf { get; init; }

        /// <summary>Acceptance vectors to attach (docs/bundle-format.md#acceptance-vectors); checked against the model first.</summary>
        public string? AcceptancePath { get; init; }

        /// <summary>Tolerance for the acceptance vectors; needs <see cref="AcceptancePath"/>. Default <see cref="BundleAcceptance.DefaultTolerance"/>.</summary>
        public double? Tolerance { get; init; }

        /// <summary>Warm-up runs the device makes while staging (0..100). Default <see cref="BundleAcceptance.DefaultWarmupRuns"/>.</summary>
        public int? WarmupRuns { get; init; }

        /// <summary>Drift baseline to sign into the manifest (docs/drift.md); checked against the model's inputs and outputs.</summary>
        public DriftBaseline? Drift { get; init; }

        public DateTimeOffset Now { get; init; } = DateTimeOffset.UtcNow;
    }

    public sealed record Result(BundleManifest Manifest, byte[] Envelope, string Path)
    {
        /// <summary>Number of acceptance vectors attached (0 without an acceptance file).</summary>
        public int AcceptanceVectors { get; init; }
    }

    public const string ModelFileName = "model.onnx";

    /// <summary>Where an attached acceptance file lies in the bundle.</summary>
    public const string AcceptanceFileName = "acceptance.json";

    public static Result Create(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!ManifestVerifier.IsValidModelName(request.Name))
        {
            throw new ArgumentException($"model name '{request.Name}' is not valid (lowercase letters, digits, '.', '_', '-'; up to 64)");
        }

        if (!SemVersion.TryParse(request.Version, out var semver))
        {
            throw new ArgumentException($"version '{request.Version}' is not a semantic version (e.g. 1.0.0)");
        }

        if (semver.HasBuildMetadata)
        {
            throw new ArgumentException($"version '{request.Version}' carries build metadata ('+'), which cannot appear in an MQTT topic; use a pre-release tag such as 1.0.0-build.5");
        }

        if (request.RollbackOf is not null && (!SemVersion.TryParse(request.RollbackOf, out var from) || from <= semver))
        {
            throw new ArgumentException($"rollback-of '{request.RollbackOf}' must be a semantic version higher than {request.Version}");
        }

        if (request.ChunkSize is < 1 or > VerificationPolicy.DefaultMaxChunkSize)
        {
            throw new ArgumentException($"chunk size {request.ChunkSize} is outside 1..{VerificationPolicy.DefaultMaxChunkSize} bytes (devices refuse larger chunks; the default {ChunkTable.DefaultChunkSize} fits every common broker)");
        }

        CheckAcceptanceOptions(request);
        if (!File.Exists(request.ModelPath))
        {
            throw new FileNotFoundException($"model not found: {request.ModelPath}", request.ModelPath);
        }

        var (inputs, outputs) = ModelIntrospector.Read(request.ModelPath);
        if (request.Drift is { } drift && DriftBaselineRules.FindViolation(drift, [.. inputs.Select(t => t.Name)], [.. outputs.Select(t => t.Name)]) is { } violation)
        {
            throw new ArgumentException($"drift baseline: {violation}");
        }

        var suite = request.AcceptancePath is { } acceptancePath ? AcceptanceFileValidator.Check(acceptancePath, inputs, outputs) : null;
        BundleFileEntry file;
        using (var model = File.OpenRead(request.ModelPath))
        {
            file = ChunkTable.Describe(ModelFileName, model, request.ChunkSize);
        }

        List<BundleFileEntry> files = [file];
        List<(string Path, string Source)> sources = [(ModelFileName, request.ModelPath)];
        if (request.AcceptancePath is { } source)
        {
            using var acceptance = File.OpenRead(source);
            files.Add(ChunkTable.Describe(AcceptanceFileName, acceptance, request.ChunkSize));
            sources.Add((AcceptanceFileName, source));
        }

        var manifest = new BundleManifest
        {
            Name = request.Name,
            Version = request.Version,
            Created = request.Now,
            Expires = request.ValidFor is { } valid ? request.Now + valid : null,
            Architectures = request.Architectures,
            DeviceTypes = request.DeviceTypes,
            RollbackOf = request.RollbackOf,
            Model = ModelFileName,
            Files = files,
            Inputs = inputs,
            Outputs = outputs,
            Acceptance = request.AcceptancePath is null && request.WarmupRuns is null ? null : new BundleAcceptance
            {
                File = request.AcceptancePath is null ? null : AcceptanceFileName,
                Tolerance = request.Tolerance ?? BundleAcceptance.DefaultTolerance,
                WarmupRuns = request.WarmupRuns ?? BundleAcceptance.DefaultWarmupRuns,
            },
            Drift = request.Drift,
        };
        var envelope = JsonSerializer.SerializeToUtf8Bytes(ManifestSigner.Sign(manifest, request.Keys), CoreJson.Indented);
        var dir = Path.GetDirectoryName(Path.GetFullPath(request.OutPath));
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        BundleArchive.Write(request.OutPath, envelope, sources);
        return new Result(manifest, envelope, request.OutPath) { AcceptanceVectors = suite?.Vectors.Count ?? 0 };
    }

    private static void CheckAcceptanceOptions(Request request)
    {
        if (request.Tolerance is { } tolerance)
        {
            if (request.AcceptancePath is null)
            {
                throw new ArgumentException("a tolerance applies to acceptance vectors: give an acceptance file (--acceptance) too");
            }

            if (!double.IsFinite(tolerance) || tolerance < 0)
            {
                throw new ArgumentException($"tolerance {tolerance} must be a finite number ≥ 0");
            }
        }

        if (request.WarmupRuns is < 0 or > BundleAcceptance.MaxWarmupRuns)
        {
            throw new ArgumentException($"warm-up runs {request.WarmupRuns} is outside 0..{BundleAcceptance.MaxWarmupRuns}");
        }
    }
}
