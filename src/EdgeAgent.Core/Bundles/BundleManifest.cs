using System.Text.Json.Serialization;
using EdgeAgent.Core.Drift;

namespace EdgeAgent.Core.Bundles;

/// <summary>The signed object of a bundle (docs/bundle-format.md). Nothing in a bundle is trusted unless this says so.</summary>
public sealed record BundleManifest
{
    public const string SchemaV1 = "edgeagent.manifest/v1";

    [JsonPropertyName("schema")] public string Schema { get; set; } = SchemaV1;

    [JsonPropertyName("name")] public required string Name { get; init; }

    [JsonPropertyName("version")] public required string Version { get; init; }

    [JsonPropertyName("created")] public DateTimeOffset Created { get; init; }

    [JsonPropertyName("expires")] public DateTimeOffset? Expires { get; init; }

    /// <summary>Target architectures (<c>x64</c>, <c>arm64</c>); empty means any.</summary>
    [JsonPropertyName("architectures")] public IReadOnlyList<string> Architectures { get; set; } = [];

    /// <summary>Target device types; empty means any.</summary>
    [JsonPropertyName("deviceTypes")] public IReadOnlyList<string> DeviceTypes { get; set; } = [];

    /// <summary>Path (within <see cref="Files"/>) of the ONNX model.</summary>
    [JsonPropertyName("model")] public required string Model { get; init; }

    [JsonPropertyName("files")] public required IReadOnlyList<BundleFileEntry> Files { get; init; }

    /// <summary>
    /// Signed permission to install this (older) version on a device that already accepted a higher one: the version
    /// being rolled back from. Without it a device refuses any version lower than the highest it accepted.
    /// </summary>
    [JsonPropertyName("rollbackOf")] public string? RollbackOf { get; init; }

    [JsonPropertyName("inputs")] public IReadOnlyList<TensorSpec> Inputs { get; set; } = [];

    [JsonPropertyName("outputs")] public IReadOnlyList<TensorSpec> Outputs { get; set; } = [];

    /// <summary>Acceptance vectors and warm-up runs for staging; null means no vectors and <see cref="BundleAcceptance.DefaultWarmupRuns"/> warm-up runs.</summary>
    [JsonPropertyName("acceptance")] public BundleAcceptance? Acceptance { get; init; }

    /// <summary>Drift baseline (docs/drift.md); null means the model is not monitored for drift. Signed with the rest.</summary>
    [JsonPropertyName("drift")] public DriftBaseline? Drift { get; init; }

    [JsonIgnore] public BundleFileEntry? ModelFile => Files.FirstOrDefault(f => f.Path == Model);

    [JsonIgnore] public BundleFileEntry? AcceptanceFile => Acceptance?.File is { } path ? Files.FirstOrDefault(f => f.Path == path) : null;

    [JsonIgnore] public long TotalLength => Files.Sum(f => f.Length);
}
